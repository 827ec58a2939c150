WITH "src" AS (
  SELECT
    *,
    CAST("account_id" AS VARCHAR) AS "__cs_key",
    ROW_NUMBER() OVER (ORDER BY "account_id") AS "__cs_row",
    CAST(NULL AS DOUBLE) AS "__cs_previous"
  FROM "accounts"
), "s1" AS (
  SELECT
    "src".*,
    NOT (
      COALESCE(ARRAY_CONTAINS(CAST('internal' AS VARIANT), "tags"), FALSE)
    ) AS "__cs_a0w_v",
    CAST(NULL AS INT) AS "__cs_a0w_f",
    "arr" AS "__cs_a0o_v",
    CAST(NULL AS INT) AS "__cs_a0o_f",
    NOT (
      COALESCE(ARRAY_CONTAINS(CAST('internal' AS VARIANT), "tags"), FALSE)
    ) AS "__cs_a1w_v",
    CAST(NULL AS INT) AS "__cs_a1w_f",
    CAST("active_users_30d" AS DOUBLE) AS "__cs_a1o_v",
    CAST(NULL AS INT) AS "__cs_a1o_f"
  FROM "src"
), "pf" AS (
  SELECT
    (
      SELECT
        MAX(
          CASE
            WHEN "i" = CAST(FLOOR(CAST('0.8' AS DOUBLE) * CAST((
              "n" - 1
            ) AS DOUBLE)) AS BIGINT)
            THEN "x"
          END
        ) + (
          (
            MAX(
              CASE
                WHEN "i" = LEAST(
                  CAST(FLOOR(CAST('0.8' AS DOUBLE) * CAST((
                    "n" - 1
                  ) AS DOUBLE)) AS BIGINT) + 1,
                  "n" - 1
                )
                THEN "x"
              END
            ) - MAX(
              CASE
                WHEN "i" = CAST(FLOOR(CAST('0.8' AS DOUBLE) * CAST((
                  "n" - 1
                ) AS DOUBLE)) AS BIGINT)
                THEN "x"
              END
            )
          ) * MAX(
            (
              CAST('0.8' AS DOUBLE) * CAST((
                "n" - 1
              ) AS DOUBLE)
            ) - CAST(CAST(FLOOR(CAST('0.8' AS DOUBLE) * CAST((
              "n" - 1
            ) AS DOUBLE)) AS BIGINT) AS DOUBLE)
          )
        )
      FROM (
        SELECT
          "x",
          ROW_NUMBER() OVER (ORDER BY "x", "__cs_row") - 1 AS "i",
          COUNT(*) OVER () AS "n"
        FROM (
          SELECT
            CAST("__cs_a0o_v" AS DOUBLE) AS "x",
            "__cs_row"
          FROM "s1"
          WHERE
            (
              (
                "__cs_a0w_f" IS NULL
              ) AND COALESCE("__cs_a0w_v", FALSE)
            )
            AND (
              "__cs_a0o_f" IS NULL
            )
        ) AS "v"
      ) AS "r"
    ) AS "__cs_pf0",
    (
      SELECT
        MAX(
          CASE
            WHEN "i" = CAST(FLOOR(CAST('0.9' AS DOUBLE) * CAST((
              "n" - 1
            ) AS DOUBLE)) AS BIGINT)
            THEN "x"
          END
        ) + (
          (
            MAX(
              CASE
                WHEN "i" = LEAST(
                  CAST(FLOOR(CAST('0.9' AS DOUBLE) * CAST((
                    "n" - 1
                  ) AS DOUBLE)) AS BIGINT) + 1,
                  "n" - 1
                )
                THEN "x"
              END
            ) - MAX(
              CASE
                WHEN "i" = CAST(FLOOR(CAST('0.9' AS DOUBLE) * CAST((
                  "n" - 1
                ) AS DOUBLE)) AS BIGINT)
                THEN "x"
              END
            )
          ) * MAX(
            (
              CAST('0.9' AS DOUBLE) * CAST((
                "n" - 1
              ) AS DOUBLE)
            ) - CAST(CAST(FLOOR(CAST('0.9' AS DOUBLE) * CAST((
              "n" - 1
            ) AS DOUBLE)) AS BIGINT) AS DOUBLE)
          )
        )
      FROM (
        SELECT
          "x",
          ROW_NUMBER() OVER (ORDER BY "x", "__cs_row") - 1 AS "i",
          COUNT(*) OVER () AS "n"
        FROM (
          SELECT
            CAST("__cs_a1o_v" AS DOUBLE) AS "x",
            "__cs_row"
          FROM "s1"
          WHERE
            (
              (
                "__cs_a1w_f" IS NULL
              ) AND COALESCE("__cs_a1w_v", FALSE)
            )
            AND (
              "__cs_a1o_f" IS NULL
            )
        ) AS "v"
      ) AS "r"
    ) AS "__cs_pf1"
), "s_pf" AS (
  SELECT
    "s1".*,
    "pf".*
  FROM "s1"
  CROSS JOIN "pf"
), "s4" AS (
  SELECT
    "s_pf".*,
    (
      CAST("seats" AS DOUBLE)
    ) AS "__cs_b0",
    COALESCE((
      "seats" > CAST(0 AS BIGINT)
    ), FALSE) AS "__cs_b1",
    COALESCE(CASE WHEN "events_30d.login" IS NULL THEN 0 END IS NULL, FALSE) AS "__cs_b2",
    COALESCE(CASE WHEN "events_30d.report_export" IS NULL THEN 0 END IS NULL, FALSE) AS "__cs_b3",
    COALESCE(CASE WHEN "events_30d.dashboard_shared" IS NULL THEN 0 END IS NULL, FALSE) AS "__cs_b4",
    COALESCE(CASE WHEN "events_30d.integration_completed" IS NULL THEN 0 END IS NULL, FALSE) AS "__cs_b5",
    COALESCE(CASE WHEN "events_30d.api_call" IS NULL THEN 0 END IS NULL, FALSE) AS "__cs_b6",
    (
      CAST("seats" AS DOUBLE)
    ) AS "__cs_b7",
    COALESCE((
      "seats" > CAST(0 AS BIGINT)
    ), FALSE) AS "__cs_b8",
    (
      CAST("active_users_prev_30d" AS DOUBLE)
    ) AS "__cs_b9",
    COALESCE((
      "active_users_prev_30d" > CAST(0 AS BIGINT)
    ), FALSE) AS "__cs_b10",
    (
      CAST("exports_prev_30d" AS DOUBLE)
    ) AS "__cs_b11",
    COALESCE((
      "exports_prev_30d" > CAST(0 AS BIGINT)
    ), FALSE) AS "__cs_b12",
    (
      CAST(1793491200000000 AS BIGINT) - (
        DATE_PART(EPOCH_MICROSECOND, "last_admin_login")
      )
    ) AS "__cs_b13"
  FROM "s_pf"
), "s5" AS (
  SELECT
    "s4".*,
    CASE
      WHEN "__cs_b1"
      THEN CASE
        WHEN "__cs_b0" = CAST('0.0' AS DOUBLE)
        THEN CAST('Infinity' AS DOUBLE)
        ELSE (
          CAST("active_users_30d" AS DOUBLE)
        ) / NULLIF("__cs_b0", CAST('0.0' AS DOUBLE))
      END
      ELSE CAST('0.0' AS DOUBLE)
    END AS "__cs_m0_v",
    CAST(NULL AS INT) AS "__cs_m0_f",
    CASE
      WHEN "__cs_b8"
      THEN CASE
        WHEN "__cs_b7" = CAST('0.0' AS DOUBLE)
        THEN CAST('Infinity' AS DOUBLE)
        ELSE (
          (
            (
              (
                (
                  CASE
                    WHEN "__cs_b2"
                    THEN CAST("events_30d.login" AS DOUBLE)
                    ELSE CAST('0.0' AS DOUBLE)
                  END
                ) + (
                  (
                    CAST('3.0' AS DOUBLE)
                  ) * (
                    CASE
                      WHEN "__cs_b3"
                      THEN CAST("events_30d.report_export" AS DOUBLE)
                      ELSE CAST('0.0' AS DOUBLE)
                    END
                  )
                )
              ) + (
                (
                  CAST('5.0' AS DOUBLE)
                ) * (
                  CASE
                    WHEN "__cs_b4"
                    THEN CAST("events_30d.dashboard_shared" AS DOUBLE)
                    ELSE CAST('0.0' AS DOUBLE)
                  END
                )
              )
            ) + (
              (
                CAST('10.0' AS DOUBLE)
              ) * (
                CASE
                  WHEN "__cs_b5"
                  THEN CAST("events_30d.integration_completed" AS DOUBLE)
                  ELSE CAST('0.0' AS DOUBLE)
                END
              )
            )
          ) + (
            (
              CAST('0.02' AS DOUBLE)
            ) * (
              CASE
                WHEN "__cs_b6"
                THEN CAST("events_30d.api_call" AS DOUBLE)
                ELSE CAST('0.0' AS DOUBLE)
              END
            )
          )
        ) / NULLIF("__cs_b7", CAST('0.0' AS DOUBLE))
      END
      ELSE CAST('0.0' AS DOUBLE)
    END AS "__cs_m1_v",
    CASE
      WHEN "__cs_b8"
      THEN COALESCE(
        COALESCE(
          COALESCE(
            COALESCE(
              CASE
                WHEN "__cs_b2"
                THEN CASE WHEN "events_30d.login" IS NULL THEN 0 END
                ELSE NULL
              END,
              CASE
                WHEN "__cs_b3"
                THEN CASE WHEN "events_30d.report_export" IS NULL THEN 0 END
                ELSE NULL
              END
            ),
            CASE
              WHEN "__cs_b4"
              THEN CASE WHEN "events_30d.dashboard_shared" IS NULL THEN 0 END
              ELSE NULL
            END
          ),
          CASE
            WHEN "__cs_b5"
            THEN CASE WHEN "events_30d.integration_completed" IS NULL THEN 0 END
            ELSE NULL
          END
        ),
        CASE
          WHEN "__cs_b6"
          THEN CASE WHEN "events_30d.api_call" IS NULL THEN 0 END
          ELSE NULL
        END
      )
      ELSE NULL
    END AS "__cs_m1_f",
    CASE
      WHEN "__cs_b10"
      THEN CASE
        WHEN "__cs_b9" = CAST('0.0' AS DOUBLE)
        THEN CAST('Infinity' AS DOUBLE)
        ELSE (
          (
            CAST('100.0' AS DOUBLE)
          ) * (
            (
              CAST("active_users_30d" AS DOUBLE)
            ) - (
              CAST("active_users_prev_30d" AS DOUBLE)
            )
          )
        ) / NULLIF("__cs_b9", CAST('0.0' AS DOUBLE))
      END
      ELSE CAST('0.0' AS DOUBLE)
    END AS "__cs_m2_v",
    CAST(NULL AS INT) AS "__cs_m2_f",
    CASE
      WHEN "__cs_b12"
      THEN CASE
        WHEN "__cs_b11" = CAST('0.0' AS DOUBLE)
        THEN CAST('Infinity' AS DOUBLE)
        ELSE (
          (
            CAST('100.0' AS DOUBLE)
          ) * (
            (
              CAST("exports_30d" AS DOUBLE)
            ) - (
              CAST("exports_prev_30d" AS DOUBLE)
            )
          )
        ) / NULLIF("__cs_b11", CAST('0.0' AS DOUBLE))
      END
      ELSE CAST('0.0' AS DOUBLE)
    END AS "__cs_m3_v",
    CAST(NULL AS INT) AS "__cs_m3_f",
    (
      CASE
        WHEN ABS("__cs_b13") <= CAST(9007199254740992 AS BIGINT)
        THEN CAST("__cs_b13" AS DOUBLE) / CAST('1000000.0' AS DOUBLE)
        ELSE CAST((
          CASE
            WHEN (
              "__cs_b13" < CAST(0 AS BIGINT)
            )
            AND (
              (
                "__cs_b13" % CAST(1000000 AS BIGINT)
              ) <> CAST(0 AS BIGINT)
            )
            THEN CAST(FLOOR(
              CAST(ABS("__cs_b13") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
            ) * (
              SIGN("__cs_b13") * SIGN(CAST(1000000 AS BIGINT))
            ) AS BIGINT) - CAST(1 AS BIGINT)
            ELSE CAST(FLOOR(
              CAST(ABS("__cs_b13") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
            ) * (
              SIGN("__cs_b13") * SIGN(CAST(1000000 AS BIGINT))
            ) AS BIGINT)
          END
        ) AS DOUBLE) + (
          CAST((
            "__cs_b13" - (
              (
                CASE
                  WHEN (
                    "__cs_b13" < CAST(0 AS BIGINT)
                  )
                  AND (
                    (
                      "__cs_b13" % CAST(1000000 AS BIGINT)
                    ) <> CAST(0 AS BIGINT)
                  )
                  THEN CAST(FLOOR(
                    CAST(ABS("__cs_b13") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
                  ) * (
                    SIGN("__cs_b13") * SIGN(CAST(1000000 AS BIGINT))
                  ) AS BIGINT) - CAST(1 AS BIGINT)
                  ELSE CAST(FLOOR(
                    CAST(ABS("__cs_b13") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
                  ) * (
                    SIGN("__cs_b13") * SIGN(CAST(1000000 AS BIGINT))
                  ) AS BIGINT)
                END
              ) * CAST(1000000 AS BIGINT)
            )
          ) AS DOUBLE) / CAST('1000000.0' AS DOUBLE)
        )
      END
    ) / CAST('86400.0' AS DOUBLE) AS "__cs_m4_v",
    CASE WHEN DATE_PART(EPOCH_MICROSECOND, "last_admin_login") IS NULL THEN 0 END AS "__cs_m4_f",
    "support_sentiment" AS "__cs_m5_v",
    CASE WHEN "support_sentiment" IS NULL THEN 0 END AS "__cs_m5_f"
  FROM "s4"
), "s6" AS (
  SELECT
    "s5".*,
    CASE
      WHEN (
        "__cs_m0_f" IS NULL
      )
      AND (
        (
          NOT (
            CAST("__cs_m0_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
        AND (
          ABS(CAST("__cs_m0_v" AS DOUBLE)) <> CAST('inf' AS DOUBLE)
        )
      )
      THEN CASE
        WHEN CAST('1.0' AS DOUBLE) < CASE
          WHEN CAST('0.0' AS DOUBLE) > (
            (
              CAST("__cs_m0_v" AS DOUBLE) - CAST('0.1' AS DOUBLE)
            ) / CAST('0.6' AS DOUBLE)
          )
          THEN CAST('0.0' AS DOUBLE)
          ELSE (
            CAST("__cs_m0_v" AS DOUBLE) - CAST('0.1' AS DOUBLE)
          ) / CAST('0.6' AS DOUBLE)
        END
        THEN CAST('1.0' AS DOUBLE)
        ELSE CASE
          WHEN CAST('0.0' AS DOUBLE) > (
            (
              CAST("__cs_m0_v" AS DOUBLE) - CAST('0.1' AS DOUBLE)
            ) / CAST('0.6' AS DOUBLE)
          )
          THEN CAST('0.0' AS DOUBLE)
          ELSE (
            CAST("__cs_m0_v" AS DOUBLE) - CAST('0.1' AS DOUBLE)
          ) / CAST('0.6' AS DOUBLE)
        END
      END
    END AS "__cs_n0",
    COALESCE("__cs_m0_f" > 0, FALSE)
    OR (
      (
        "__cs_m0_f" IS NULL
      )
      AND (
        NOT (
          (
            NOT (
              CAST("__cs_m0_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
            )
          )
          AND (
            ABS(CAST("__cs_m0_v" AS DOUBLE)) <> CAST('inf' AS DOUBLE)
          )
        )
      )
    ) AS "__cs_e0",
    CASE
      WHEN (
        "__cs_m1_f" IS NULL
      )
      AND (
        (
          NOT (
            CAST("__cs_m1_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
        AND (
          ABS(CAST("__cs_m1_v" AS DOUBLE)) <> CAST('inf' AS DOUBLE)
        )
      )
      THEN CASE
        WHEN CAST('1.0' AS DOUBLE) < CASE
          WHEN CAST('0.0' AS DOUBLE) > (
            (
              CAST("__cs_m1_v" AS DOUBLE) - CAST('0.0' AS DOUBLE)
            ) / CAST('15.0' AS DOUBLE)
          )
          THEN CAST('0.0' AS DOUBLE)
          ELSE (
            CAST("__cs_m1_v" AS DOUBLE) - CAST('0.0' AS DOUBLE)
          ) / CAST('15.0' AS DOUBLE)
        END
        THEN CAST('1.0' AS DOUBLE)
        ELSE CASE
          WHEN CAST('0.0' AS DOUBLE) > (
            (
              CAST("__cs_m1_v" AS DOUBLE) - CAST('0.0' AS DOUBLE)
            ) / CAST('15.0' AS DOUBLE)
          )
          THEN CAST('0.0' AS DOUBLE)
          ELSE (
            CAST("__cs_m1_v" AS DOUBLE) - CAST('0.0' AS DOUBLE)
          ) / CAST('15.0' AS DOUBLE)
        END
      END
    END AS "__cs_n1",
    COALESCE("__cs_m1_f" > 0, FALSE)
    OR (
      (
        "__cs_m1_f" IS NULL
      )
      AND (
        NOT (
          (
            NOT (
              CAST("__cs_m1_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
            )
          )
          AND (
            ABS(CAST("__cs_m1_v" AS DOUBLE)) <> CAST('inf' AS DOUBLE)
          )
        )
      )
    ) AS "__cs_e1",
    CASE
      WHEN (
        "__cs_m2_f" IS NULL
      )
      AND (
        (
          NOT (
            CAST("__cs_m2_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
        AND (
          ABS(CAST("__cs_m2_v" AS DOUBLE)) <> CAST('inf' AS DOUBLE)
        )
      )
      THEN CASE
        WHEN CAST('1.0' AS DOUBLE) < CASE
          WHEN CAST('0.0' AS DOUBLE) > (
            (
              CAST("__cs_m2_v" AS DOUBLE) - CAST('-40.0' AS DOUBLE)
            ) / CAST('40.0' AS DOUBLE)
          )
          THEN CAST('0.0' AS DOUBLE)
          ELSE (
            CAST("__cs_m2_v" AS DOUBLE) - CAST('-40.0' AS DOUBLE)
          ) / CAST('40.0' AS DOUBLE)
        END
        THEN CAST('1.0' AS DOUBLE)
        ELSE CASE
          WHEN CAST('0.0' AS DOUBLE) > (
            (
              CAST("__cs_m2_v" AS DOUBLE) - CAST('-40.0' AS DOUBLE)
            ) / CAST('40.0' AS DOUBLE)
          )
          THEN CAST('0.0' AS DOUBLE)
          ELSE (
            CAST("__cs_m2_v" AS DOUBLE) - CAST('-40.0' AS DOUBLE)
          ) / CAST('40.0' AS DOUBLE)
        END
      END
    END AS "__cs_n2",
    COALESCE("__cs_m2_f" > 0, FALSE)
    OR (
      (
        "__cs_m2_f" IS NULL
      )
      AND (
        NOT (
          (
            NOT (
              CAST("__cs_m2_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
            )
          )
          AND (
            ABS(CAST("__cs_m2_v" AS DOUBLE)) <> CAST('inf' AS DOUBLE)
          )
        )
      )
    ) AS "__cs_e2",
    CASE
      WHEN (
        "__cs_m3_f" IS NULL
      )
      AND (
        (
          NOT (
            CAST("__cs_m3_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
        AND (
          ABS(CAST("__cs_m3_v" AS DOUBLE)) <> CAST('inf' AS DOUBLE)
        )
      )
      THEN CASE
        WHEN CAST('1.0' AS DOUBLE) < CASE
          WHEN CAST('0.0' AS DOUBLE) > (
            (
              CAST("__cs_m3_v" AS DOUBLE) - CAST('-60.0' AS DOUBLE)
            ) / CAST('60.0' AS DOUBLE)
          )
          THEN CAST('0.0' AS DOUBLE)
          ELSE (
            CAST("__cs_m3_v" AS DOUBLE) - CAST('-60.0' AS DOUBLE)
          ) / CAST('60.0' AS DOUBLE)
        END
        THEN CAST('1.0' AS DOUBLE)
        ELSE CASE
          WHEN CAST('0.0' AS DOUBLE) > (
            (
              CAST("__cs_m3_v" AS DOUBLE) - CAST('-60.0' AS DOUBLE)
            ) / CAST('60.0' AS DOUBLE)
          )
          THEN CAST('0.0' AS DOUBLE)
          ELSE (
            CAST("__cs_m3_v" AS DOUBLE) - CAST('-60.0' AS DOUBLE)
          ) / CAST('60.0' AS DOUBLE)
        END
      END
    END AS "__cs_n3",
    COALESCE("__cs_m3_f" > 0, FALSE)
    OR (
      (
        "__cs_m3_f" IS NULL
      )
      AND (
        NOT (
          (
            NOT (
              CAST("__cs_m3_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
            )
          )
          AND (
            ABS(CAST("__cs_m3_v" AS DOUBLE)) <> CAST('inf' AS DOUBLE)
          )
        )
      )
    ) AS "__cs_e3",
    CASE
      WHEN (
        "__cs_m4_f" IS NULL
      )
      AND (
        (
          NOT (
            CAST("__cs_m4_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
        AND (
          ABS(CAST("__cs_m4_v" AS DOUBLE)) <> CAST('inf' AS DOUBLE)
        )
      )
      THEN CASE
        WHEN CAST('1.0' AS DOUBLE) < CASE
          WHEN CAST('0.0' AS DOUBLE) > (
            (
              CAST("__cs_m4_v" AS DOUBLE) - CAST('30.0' AS DOUBLE)
            ) / CAST('-30.0' AS DOUBLE)
          )
          THEN CAST('0.0' AS DOUBLE)
          ELSE (
            CAST("__cs_m4_v" AS DOUBLE) - CAST('30.0' AS DOUBLE)
          ) / CAST('-30.0' AS DOUBLE)
        END
        THEN CAST('1.0' AS DOUBLE)
        ELSE CASE
          WHEN CAST('0.0' AS DOUBLE) > (
            (
              CAST("__cs_m4_v" AS DOUBLE) - CAST('30.0' AS DOUBLE)
            ) / CAST('-30.0' AS DOUBLE)
          )
          THEN CAST('0.0' AS DOUBLE)
          ELSE (
            CAST("__cs_m4_v" AS DOUBLE) - CAST('30.0' AS DOUBLE)
          ) / CAST('-30.0' AS DOUBLE)
        END
      END
    END AS "__cs_n4",
    COALESCE("__cs_m4_f" > 0, FALSE)
    OR (
      (
        "__cs_m4_f" IS NULL
      )
      AND (
        NOT (
          (
            NOT (
              CAST("__cs_m4_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
            )
          )
          AND (
            ABS(CAST("__cs_m4_v" AS DOUBLE)) <> CAST('inf' AS DOUBLE)
          )
        )
      )
    ) AS "__cs_e4",
    CASE
      WHEN (
        "__cs_m5_f" IS NULL
      )
      AND (
        (
          NOT (
            CAST("__cs_m5_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
        AND (
          ABS(CAST("__cs_m5_v" AS DOUBLE)) <> CAST('inf' AS DOUBLE)
        )
      )
      THEN CASE
        WHEN CAST('1.0' AS DOUBLE) < CASE
          WHEN CAST('0.0' AS DOUBLE) > (
            (
              CAST("__cs_m5_v" AS DOUBLE) - CAST('-0.6' AS DOUBLE)
            ) / CAST('1.0' AS DOUBLE)
          )
          THEN CAST('0.0' AS DOUBLE)
          ELSE (
            CAST("__cs_m5_v" AS DOUBLE) - CAST('-0.6' AS DOUBLE)
          ) / CAST('1.0' AS DOUBLE)
        END
        THEN CAST('1.0' AS DOUBLE)
        ELSE CASE
          WHEN CAST('0.0' AS DOUBLE) > (
            (
              CAST("__cs_m5_v" AS DOUBLE) - CAST('-0.6' AS DOUBLE)
            ) / CAST('1.0' AS DOUBLE)
          )
          THEN CAST('0.0' AS DOUBLE)
          ELSE (
            CAST("__cs_m5_v" AS DOUBLE) - CAST('-0.6' AS DOUBLE)
          ) / CAST('1.0' AS DOUBLE)
        END
      END
    END AS "__cs_n5",
    COALESCE("__cs_m5_f" > 0, FALSE)
    OR (
      (
        "__cs_m5_f" IS NULL
      )
      AND (
        NOT (
          (
            NOT (
              CAST("__cs_m5_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
            )
          )
          AND (
            ABS(CAST("__cs_m5_v" AS DOUBLE)) <> CAST('inf' AS DOUBLE)
          )
        )
      )
    ) AS "__cs_e5"
  FROM "s5"
), "s7" AS (
  SELECT
    "s6".*,
    (
      (
        (
          (
            (
              CAST('0.0' AS DOUBLE) + CASE
                WHEN NOT (
                  "__cs_n0" IS NULL
                )
                THEN CAST('25.0' AS DOUBLE)
                ELSE CAST('0.0' AS DOUBLE)
              END
            ) + CASE
              WHEN NOT (
                "__cs_n1" IS NULL
              )
              THEN CAST('20.0' AS DOUBLE)
              ELSE CAST('0.0' AS DOUBLE)
            END
          ) + CASE
            WHEN NOT (
              "__cs_n2" IS NULL
            )
            THEN CAST('15.0' AS DOUBLE)
            ELSE CAST('0.0' AS DOUBLE)
          END
        ) + CASE
          WHEN NOT (
            "__cs_n3" IS NULL
          )
          THEN CAST('10.0' AS DOUBLE)
          ELSE CAST('0.0' AS DOUBLE)
        END
      ) + CASE
        WHEN NOT (
          "__cs_n4" IS NULL
        )
        THEN CAST('15.0' AS DOUBLE)
        ELSE CAST('0.0' AS DOUBLE)
      END
    ) + CASE
      WHEN NOT (
        "__cs_n5" IS NULL
      )
      THEN CAST('15.0' AS DOUBLE)
      ELSE CAST('0.0' AS DOUBLE)
    END AS "__cs_total",
    (
      (
        (
          (
            (
              CAST('0.0' AS DOUBLE) + CASE
                WHEN NOT (
                  "__cs_n0" IS NULL
                )
                THEN CAST('25.0' AS DOUBLE) * "__cs_n0"
                ELSE CAST('0.0' AS DOUBLE)
              END
            ) + CASE
              WHEN NOT (
                "__cs_n1" IS NULL
              )
              THEN CAST('20.0' AS DOUBLE) * "__cs_n1"
              ELSE CAST('0.0' AS DOUBLE)
            END
          ) + CASE
            WHEN NOT (
              "__cs_n2" IS NULL
            )
            THEN CAST('15.0' AS DOUBLE) * "__cs_n2"
            ELSE CAST('0.0' AS DOUBLE)
          END
        ) + CASE
          WHEN NOT (
            "__cs_n3" IS NULL
          )
          THEN CAST('10.0' AS DOUBLE) * "__cs_n3"
          ELSE CAST('0.0' AS DOUBLE)
        END
      ) + CASE
        WHEN NOT (
          "__cs_n4" IS NULL
        )
        THEN CAST('15.0' AS DOUBLE) * "__cs_n4"
        ELSE CAST('0.0' AS DOUBLE)
      END
    ) + CASE
      WHEN NOT (
        "__cs_n5" IS NULL
      )
      THEN CAST('15.0' AS DOUBLE) * "__cs_n5"
      ELSE CAST('0.0' AS DOUBLE)
    END AS "__cs_weighted",
    (
      (
        (
          (
            (
              FALSE OR "__cs_e0"
            ) OR "__cs_e1"
          ) OR "__cs_e2"
        )
        OR "__cs_e3"
      )
      OR "__cs_e4"
    )
    OR "__cs_e5" AS "__cs_failed"
  FROM "s6"
), "s8" AS (
  SELECT
    "s7".*,
    CASE
      WHEN (
        (
          NOT "__cs_failed"
        )
        AND (
          (
            (
              (
                (
                  (
                    FALSE OR (
                      NOT (
                        "__cs_n0" IS NULL
                      )
                    )
                  )
                  OR (
                    NOT (
                      "__cs_n1" IS NULL
                    )
                  )
                )
                OR (
                  NOT (
                    "__cs_n2" IS NULL
                  )
                )
              )
              OR (
                NOT (
                  "__cs_n3" IS NULL
                )
              )
            )
            OR (
              NOT (
                "__cs_n4" IS NULL
              )
            )
          )
          OR (
            NOT (
              "__cs_n5" IS NULL
            )
          )
        )
      )
      AND (
        "__cs_total" > CAST('0.0' AS DOUBLE)
      )
      THEN (
        CAST('100.0' AS DOUBLE) * "__cs_weighted"
      ) / "__cs_total"
    END AS "__cs_score",
    CASE
      WHEN (
        NOT (
          "__cs_n0" IS NULL
        )
      )
      AND (
        "__cs_total" > CAST('0.0' AS DOUBLE)
      )
      THEN (
        CAST('2500.0' AS DOUBLE) * (
          CAST('1.0' AS DOUBLE) - "__cs_n0"
        )
      ) / "__cs_total"
    END AS "__cs_lost0",
    CASE
      WHEN (
        NOT (
          "__cs_n1" IS NULL
        )
      )
      AND (
        "__cs_total" > CAST('0.0' AS DOUBLE)
      )
      THEN (
        CAST('2000.0' AS DOUBLE) * (
          CAST('1.0' AS DOUBLE) - "__cs_n1"
        )
      ) / "__cs_total"
    END AS "__cs_lost1",
    CASE
      WHEN (
        NOT (
          "__cs_n2" IS NULL
        )
      )
      AND (
        "__cs_total" > CAST('0.0' AS DOUBLE)
      )
      THEN (
        CAST('1500.0' AS DOUBLE) * (
          CAST('1.0' AS DOUBLE) - "__cs_n2"
        )
      ) / "__cs_total"
    END AS "__cs_lost2",
    CASE
      WHEN (
        NOT (
          "__cs_n3" IS NULL
        )
      )
      AND (
        "__cs_total" > CAST('0.0' AS DOUBLE)
      )
      THEN (
        CAST('1000.0' AS DOUBLE) * (
          CAST('1.0' AS DOUBLE) - "__cs_n3"
        )
      ) / "__cs_total"
    END AS "__cs_lost3",
    CASE
      WHEN (
        NOT (
          "__cs_n4" IS NULL
        )
      )
      AND (
        "__cs_total" > CAST('0.0' AS DOUBLE)
      )
      THEN (
        CAST('1500.0' AS DOUBLE) * (
          CAST('1.0' AS DOUBLE) - "__cs_n4"
        )
      ) / "__cs_total"
    END AS "__cs_lost4",
    CASE
      WHEN (
        NOT (
          "__cs_n5" IS NULL
        )
      )
      AND (
        "__cs_total" > CAST('0.0' AS DOUBLE)
      )
      THEN (
        CAST('1500.0' AS DOUBLE) * (
          CAST('1.0' AS DOUBLE) - "__cs_n5"
        )
      ) / "__cs_total"
    END AS "__cs_lost5"
  FROM "s7"
), "s9" AS (
  SELECT
    "s8".*,
    CASE
      WHEN "__cs_score" >= CAST('75.0' AS DOUBLE)
      THEN 'green'
      WHEN "__cs_score" >= CAST('50.0' AS DOUBLE)
      THEN 'yellow'
      WHEN "__cs_score" >= CAST('0.0' AS DOUBLE)
      THEN 'red'
      ELSE 'unknown'
    END AS "__cs_band",
    "__cs_score" - "__cs_previous" AS "__cs_delta",
    (
      NOT (
        "__cs_score" IS NULL
      )
    )
    AND (
      "__cs_lost0" > CAST('0.0' AS DOUBLE)
    ) AS "__cs_loser0",
    (
      NOT (
        "__cs_score" IS NULL
      )
    )
    AND (
      "__cs_lost1" > CAST('0.0' AS DOUBLE)
    ) AS "__cs_loser1",
    (
      NOT (
        "__cs_score" IS NULL
      )
    )
    AND (
      "__cs_lost2" > CAST('0.0' AS DOUBLE)
    ) AS "__cs_loser2",
    (
      NOT (
        "__cs_score" IS NULL
      )
    )
    AND (
      "__cs_lost3" > CAST('0.0' AS DOUBLE)
    ) AS "__cs_loser3",
    (
      NOT (
        "__cs_score" IS NULL
      )
    )
    AND (
      "__cs_lost4" > CAST('0.0' AS DOUBLE)
    ) AS "__cs_loser4",
    (
      NOT (
        "__cs_score" IS NULL
      )
    )
    AND (
      "__cs_lost5" > CAST('0.0' AS DOUBLE)
    ) AS "__cs_loser5"
  FROM "s8"
), "s10" AS (
  SELECT
    "s9".*,
    (
      CAST("__cs_m0_v" AS DOUBLE)
    ) * (
      CAST('100.0' AS DOUBLE)
    ) AS "__cs_b14",
    CAST("__cs_m1_v" AS DOUBLE) AS "__cs_b15",
    CAST("__cs_m2_v" AS DOUBLE) AS "__cs_b16",
    CAST("__cs_m2_v" AS DOUBLE) AS "__cs_b18",
    CAST("__cs_m3_v" AS DOUBLE) AS "__cs_b21",
    CAST("__cs_m3_v" AS DOUBLE) AS "__cs_b23",
    CAST("__cs_m4_v" AS DOUBLE) AS "__cs_b26",
    CAST("__cs_m5_v" AS DOUBLE) AS "__cs_b27",
    CAST("__cs_m5_v" AS DOUBLE) AS "__cs_b28",
    (
      CAST("__cs_m5_v" AS DOUBLE)
    ) * (
      CAST('100.0' AS DOUBLE)
    ) AS "__cs_b31"
  FROM "s9"
), "s11" AS (
  SELECT
    "s10".*,
    COALESCE(
      (
        (
          (
            "__cs_b16" < CAST('0.0' AS DOUBLE)
          )
          AND (
            NOT (
              "__cs_b16" = CAST('NaN' AS DOUBLE)
            )
          )
        )
        AND (
          NOT (
            CAST('0.0' AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
      ),
      FALSE
    ) AS "__cs_b17",
    COALESCE(
      (
        (
          (
            "__cs_b18" < CAST('0.0' AS DOUBLE)
          )
          AND (
            NOT (
              "__cs_b18" = CAST('NaN' AS DOUBLE)
            )
          )
        )
        AND (
          NOT (
            CAST('0.0' AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
      ),
      FALSE
    ) AS "__cs_b19",
    COALESCE(
      (
        (
          (
            "__cs_b21" < CAST('0.0' AS DOUBLE)
          )
          AND (
            NOT (
              "__cs_b21" = CAST('NaN' AS DOUBLE)
            )
          )
        )
        AND (
          NOT (
            CAST('0.0' AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
      ),
      FALSE
    ) AS "__cs_b22",
    COALESCE(
      (
        (
          (
            "__cs_b23" < CAST('0.0' AS DOUBLE)
          )
          AND (
            NOT (
              "__cs_b23" = CAST('NaN' AS DOUBLE)
            )
          )
        )
        AND (
          NOT (
            CAST('0.0' AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
      ),
      FALSE
    ) AS "__cs_b24",
    COALESCE(
      (
        (
          (
            "__cs_b28" < CAST('0.2' AS DOUBLE)
          )
          AND (
            NOT (
              "__cs_b28" = CAST('NaN' AS DOUBLE)
            )
          )
        )
        AND (
          NOT (
            CAST('0.2' AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
      ),
      FALSE
    ) AS "__cs_b29",
    COALESCE(
      (
        (
          (
            "__cs_b27" <= CAST('-0.2' AS DOUBLE)
          )
          AND (
            NOT (
              "__cs_b27" = CAST('NaN' AS DOUBLE)
            )
          )
        )
        AND (
          NOT (
            CAST('-0.2' AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
      ),
      FALSE
    ) AS "__cs_b30"
  FROM "s10"
), "s12" AS (
  SELECT
    "s11".*,
    CASE
      WHEN "__cs_b19"
      THEN -(
        CAST("__cs_m2_v" AS DOUBLE)
      )
      ELSE CAST("__cs_m2_v" AS DOUBLE)
    END AS "__cs_b20",
    CASE
      WHEN "__cs_b24"
      THEN -(
        CAST("__cs_m3_v" AS DOUBLE)
      )
      ELSE CAST("__cs_m3_v" AS DOUBLE)
    END AS "__cs_b25"
  FROM "s11"
), "s13" AS (
  SELECT
    "s12".*,
    CASE
      WHEN (
        (
          NOT (
            "__cs_b14" = CAST('NaN' AS DOUBLE)
          )
        )
        AND (
          NOT (
            ABS("__cs_b14") = CAST('Infinity' AS DOUBLE)
          )
        )
      )
      AND (
        NOT (
          (
            "__cs_b14" < CAST('-9.223372036854776e+18' AS DOUBLE)
          )
          OR (
            "__cs_b14" >= CAST('9.223372036854776e+18' AS DOUBLE)
          )
        )
      )
      THEN CAST(TRUNC("__cs_b14") AS BIGINT)
    END AS "__cs_x0_1_v",
    COALESCE(
      CASE WHEN TRUE AND (
        ABS("__cs_b14") = CAST('Infinity' AS DOUBLE)
      ) THEN 2 END,
      CASE
        WHEN (
          "__cs_b14" = CAST('NaN' AS DOUBLE)
        )
        OR (
          (
            NOT (
              ABS("__cs_b14") = CAST('Infinity' AS DOUBLE)
            )
          )
          AND (
            (
              "__cs_b14" < CAST('-9.223372036854776e+18' AS DOUBLE)
            )
            OR (
              "__cs_b14" >= CAST('9.223372036854776e+18' AS DOUBLE)
            )
          )
        )
        THEN 1
      END
    ) AS "__cs_x0_1_f",
    CASE
      WHEN (
        (
          NOT (
            "__cs_b15" = CAST('NaN' AS DOUBLE)
          )
        )
        AND (
          NOT (
            ABS("__cs_b15") = CAST('Infinity' AS DOUBLE)
          )
        )
      )
      AND (
        NOT (
          (
            "__cs_b15" < CAST('-9.223372036854776e+18' AS DOUBLE)
          )
          OR (
            "__cs_b15" >= CAST('9.223372036854776e+18' AS DOUBLE)
          )
        )
      )
      THEN CAST(TRUNC("__cs_b15") AS BIGINT)
    END AS "__cs_x1_1_v",
    COALESCE(
      CASE WHEN TRUE AND (
        ABS("__cs_b15") = CAST('Infinity' AS DOUBLE)
      ) THEN 2 END,
      CASE
        WHEN (
          "__cs_b15" = CAST('NaN' AS DOUBLE)
        )
        OR (
          (
            NOT (
              ABS("__cs_b15") = CAST('Infinity' AS DOUBLE)
            )
          )
          AND (
            (
              "__cs_b15" < CAST('-9.223372036854776e+18' AS DOUBLE)
            )
            OR (
              "__cs_b15" >= CAST('9.223372036854776e+18' AS DOUBLE)
            )
          )
        )
        THEN 1
      END
    ) AS "__cs_x1_1_f",
    CASE WHEN "__cs_b17" THEN 'down' ELSE 'up' END AS "__cs_x2_1_v",
    CAST(NULL AS INT) AS "__cs_x2_1_f",
    CASE
      WHEN (
        (
          NOT (
            "__cs_b20" = CAST('NaN' AS DOUBLE)
          )
        )
        AND (
          NOT (
            ABS("__cs_b20") = CAST('Infinity' AS DOUBLE)
          )
        )
      )
      AND (
        NOT (
          (
            "__cs_b20" < CAST('-9.223372036854776e+18' AS DOUBLE)
          )
          OR (
            "__cs_b20" >= CAST('9.223372036854776e+18' AS DOUBLE)
          )
        )
      )
      THEN CAST(TRUNC("__cs_b20") AS BIGINT)
    END AS "__cs_x2_3_v",
    COALESCE(
      CASE WHEN TRUE AND (
        ABS("__cs_b20") = CAST('Infinity' AS DOUBLE)
      ) THEN 2 END,
      CASE
        WHEN (
          "__cs_b20" = CAST('NaN' AS DOUBLE)
        )
        OR (
          (
            NOT (
              ABS("__cs_b20") = CAST('Infinity' AS DOUBLE)
            )
          )
          AND (
            (
              "__cs_b20" < CAST('-9.223372036854776e+18' AS DOUBLE)
            )
            OR (
              "__cs_b20" >= CAST('9.223372036854776e+18' AS DOUBLE)
            )
          )
        )
        THEN 1
      END
    ) AS "__cs_x2_3_f",
    CASE WHEN "__cs_b22" THEN 'down' ELSE 'up' END AS "__cs_x3_1_v",
    CAST(NULL AS INT) AS "__cs_x3_1_f",
    CASE
      WHEN (
        (
          NOT (
            "__cs_b25" = CAST('NaN' AS DOUBLE)
          )
        )
        AND (
          NOT (
            ABS("__cs_b25") = CAST('Infinity' AS DOUBLE)
          )
        )
      )
      AND (
        NOT (
          (
            "__cs_b25" < CAST('-9.223372036854776e+18' AS DOUBLE)
          )
          OR (
            "__cs_b25" >= CAST('9.223372036854776e+18' AS DOUBLE)
          )
        )
      )
      THEN CAST(TRUNC("__cs_b25") AS BIGINT)
    END AS "__cs_x3_3_v",
    COALESCE(
      CASE WHEN TRUE AND (
        ABS("__cs_b25") = CAST('Infinity' AS DOUBLE)
      ) THEN 2 END,
      CASE
        WHEN (
          "__cs_b25" = CAST('NaN' AS DOUBLE)
        )
        OR (
          (
            NOT (
              ABS("__cs_b25") = CAST('Infinity' AS DOUBLE)
            )
          )
          AND (
            (
              "__cs_b25" < CAST('-9.223372036854776e+18' AS DOUBLE)
            )
            OR (
              "__cs_b25" >= CAST('9.223372036854776e+18' AS DOUBLE)
            )
          )
        )
        THEN 1
      END
    ) AS "__cs_x3_3_f",
    CASE
      WHEN (
        (
          NOT (
            "__cs_b26" = CAST('NaN' AS DOUBLE)
          )
        )
        AND (
          NOT (
            ABS("__cs_b26") = CAST('Infinity' AS DOUBLE)
          )
        )
      )
      AND (
        NOT (
          (
            "__cs_b26" < CAST('-9.223372036854776e+18' AS DOUBLE)
          )
          OR (
            "__cs_b26" >= CAST('9.223372036854776e+18' AS DOUBLE)
          )
        )
      )
      THEN CAST(TRUNC("__cs_b26") AS BIGINT)
    END AS "__cs_x4_1_v",
    COALESCE(
      CASE WHEN TRUE AND (
        ABS("__cs_b26") = CAST('Infinity' AS DOUBLE)
      ) THEN 2 END,
      CASE
        WHEN (
          "__cs_b26" = CAST('NaN' AS DOUBLE)
        )
        OR (
          (
            NOT (
              ABS("__cs_b26") = CAST('Infinity' AS DOUBLE)
            )
          )
          AND (
            (
              "__cs_b26" < CAST('-9.223372036854776e+18' AS DOUBLE)
            )
            OR (
              "__cs_b26" >= CAST('9.223372036854776e+18' AS DOUBLE)
            )
          )
        )
        THEN 1
      END
    ) AS "__cs_x4_1_f",
    CASE
      WHEN "__cs_b30"
      THEN 'negative'
      ELSE CASE WHEN "__cs_b29" THEN 'neutral' ELSE 'positive' END
    END AS "__cs_x5_1_v",
    CAST(NULL AS INT) AS "__cs_x5_1_f",
    CASE
      WHEN (
        (
          NOT (
            "__cs_b31" = CAST('NaN' AS DOUBLE)
          )
        )
        AND (
          NOT (
            ABS("__cs_b31") = CAST('Infinity' AS DOUBLE)
          )
        )
      )
      AND (
        NOT (
          (
            "__cs_b31" < CAST('-9.223372036854776e+18' AS DOUBLE)
          )
          OR (
            "__cs_b31" >= CAST('9.223372036854776e+18' AS DOUBLE)
          )
        )
      )
      THEN CAST(TRUNC("__cs_b31") AS BIGINT)
    END AS "__cs_x5_3_v",
    COALESCE(
      CASE WHEN TRUE AND (
        ABS("__cs_b31") = CAST('Infinity' AS DOUBLE)
      ) THEN 2 END,
      CASE
        WHEN (
          "__cs_b31" = CAST('NaN' AS DOUBLE)
        )
        OR (
          (
            NOT (
              ABS("__cs_b31") = CAST('Infinity' AS DOUBLE)
            )
          )
          AND (
            (
              "__cs_b31" < CAST('-9.223372036854776e+18' AS DOUBLE)
            )
            OR (
              "__cs_b31" >= CAST('9.223372036854776e+18' AS DOUBLE)
            )
          )
        )
        THEN 1
      END
    ) AS "__cs_x5_3_f"
  FROM "s12"
), "s14" AS (
  SELECT
    "s13".*,
    CASE
      WHEN "__cs_loser0"
      THEN CASE
        WHEN CASE WHEN COALESCE("__cs_x0_1_f" > 0, FALSE) THEN "__cs_x0_1_f" END IS NULL
        THEN (
          'Only ' || CASE WHEN "__cs_x0_1_f" IS NULL THEN CAST("__cs_x0_1_v" AS VARCHAR) ELSE '' END
        ) || '% of seats active in the last 30 days'
        ELSE 'Seat adoption'
      END
    END AS "__cs_text0",
    CASE
      WHEN "__cs_loser1"
      THEN CASE
        WHEN CASE WHEN COALESCE("__cs_x1_1_f" > 0, FALSE) THEN "__cs_x1_1_f" END IS NULL
        THEN (
          'Weighted engagement ' || CASE WHEN "__cs_x1_1_f" IS NULL THEN CAST("__cs_x1_1_v" AS VARCHAR) ELSE '' END
        ) || ' points per seat in 30 days (target 15)'
        ELSE 'Weighted engagement per seat'
      END
    END AS "__cs_text1",
    CASE
      WHEN "__cs_loser2"
      THEN CASE
        WHEN COALESCE(
          CASE WHEN COALESCE("__cs_x2_1_f" > 0, FALSE) THEN "__cs_x2_1_f" END,
          CASE WHEN COALESCE("__cs_x2_3_f" > 0, FALSE) THEN "__cs_x2_3_f" END
        ) IS NULL
        THEN (
          (
            (
              'Active users ' || CASE WHEN "__cs_x2_1_f" IS NULL THEN "__cs_x2_1_v" ELSE '' END
            ) || ' '
          ) || CASE WHEN "__cs_x2_3_f" IS NULL THEN CAST("__cs_x2_3_v" AS VARCHAR) ELSE '' END
        ) || '% vs previous 30 days'
        ELSE 'Active users trend'
      END
    END AS "__cs_text2",
    CASE
      WHEN "__cs_loser3"
      THEN CASE
        WHEN COALESCE(
          CASE WHEN COALESCE("__cs_x3_1_f" > 0, FALSE) THEN "__cs_x3_1_f" END,
          CASE WHEN COALESCE("__cs_x3_3_f" > 0, FALSE) THEN "__cs_x3_3_f" END
        ) IS NULL
        THEN (
          (
            (
              'Report exports ' || CASE WHEN "__cs_x3_1_f" IS NULL THEN "__cs_x3_1_v" ELSE '' END
            ) || ' '
          ) || CASE WHEN "__cs_x3_3_f" IS NULL THEN CAST("__cs_x3_3_v" AS VARCHAR) ELSE '' END
        ) || '% vs previous 30 days'
        ELSE 'Report export trend'
      END
    END AS "__cs_text3",
    CASE
      WHEN "__cs_loser4"
      THEN CASE
        WHEN CASE WHEN COALESCE("__cs_x4_1_f" > 0, FALSE) THEN "__cs_x4_1_f" END IS NULL
        THEN (
          'Admin inactive ' || CASE WHEN "__cs_x4_1_f" IS NULL THEN CAST("__cs_x4_1_v" AS VARCHAR) ELSE '' END
        ) || ' days'
        ELSE 'Admin activity'
      END
    END AS "__cs_text4",
    CASE
      WHEN "__cs_loser5"
      THEN CASE
        WHEN COALESCE(
          CASE WHEN COALESCE("__cs_x5_1_f" > 0, FALSE) THEN "__cs_x5_1_f" END,
          CASE WHEN COALESCE("__cs_x5_3_f" > 0, FALSE) THEN "__cs_x5_3_f" END
        ) IS NULL
        THEN (
          (
            (
              'Support sentiment ' || CASE WHEN "__cs_x5_1_f" IS NULL THEN "__cs_x5_1_v" ELSE '' END
            ) || ' ('
          ) || CASE WHEN "__cs_x5_3_f" IS NULL THEN CAST("__cs_x5_3_v" AS VARCHAR) ELSE '' END
        ) || ' on a -100..100 scale)'
        ELSE 'Support sentiment'
      END
    END AS "__cs_text5",
    (
      (
        (
          (
            0 + CASE WHEN "__cs_loser1" AND (
              "__cs_lost1" > "__cs_lost0"
            ) THEN 1 ELSE 0 END
          ) + CASE WHEN "__cs_loser2" AND (
            "__cs_lost2" > "__cs_lost0"
          ) THEN 1 ELSE 0 END
        ) + CASE WHEN "__cs_loser3" AND (
          "__cs_lost3" > "__cs_lost0"
        ) THEN 1 ELSE 0 END
      ) + CASE WHEN "__cs_loser4" AND (
        "__cs_lost4" > "__cs_lost0"
      ) THEN 1 ELSE 0 END
    ) + CASE WHEN "__cs_loser5" AND (
      "__cs_lost5" > "__cs_lost0"
    ) THEN 1 ELSE 0 END AS "__cs_rank0",
    (
      (
        (
          (
            0 + CASE
              WHEN "__cs_loser0"
              AND (
                (
                  "__cs_lost0" > "__cs_lost1"
                ) OR (
                  "__cs_lost0" = "__cs_lost1"
                )
              )
              THEN 1
              ELSE 0
            END
          ) + CASE WHEN "__cs_loser2" AND (
            "__cs_lost2" > "__cs_lost1"
          ) THEN 1 ELSE 0 END
        ) + CASE WHEN "__cs_loser3" AND (
          "__cs_lost3" > "__cs_lost1"
        ) THEN 1 ELSE 0 END
      ) + CASE WHEN "__cs_loser4" AND (
        "__cs_lost4" > "__cs_lost1"
      ) THEN 1 ELSE 0 END
    ) + CASE WHEN "__cs_loser5" AND (
      "__cs_lost5" > "__cs_lost1"
    ) THEN 1 ELSE 0 END AS "__cs_rank1",
    (
      (
        (
          (
            0 + CASE
              WHEN "__cs_loser0"
              AND (
                (
                  "__cs_lost0" > "__cs_lost2"
                ) OR (
                  "__cs_lost0" = "__cs_lost2"
                )
              )
              THEN 1
              ELSE 0
            END
          ) + CASE
            WHEN "__cs_loser1"
            AND (
              (
                "__cs_lost1" > "__cs_lost2"
              ) OR (
                "__cs_lost1" = "__cs_lost2"
              )
            )
            THEN 1
            ELSE 0
          END
        ) + CASE WHEN "__cs_loser3" AND (
          "__cs_lost3" > "__cs_lost2"
        ) THEN 1 ELSE 0 END
      ) + CASE WHEN "__cs_loser4" AND (
        "__cs_lost4" > "__cs_lost2"
      ) THEN 1 ELSE 0 END
    ) + CASE WHEN "__cs_loser5" AND (
      "__cs_lost5" > "__cs_lost2"
    ) THEN 1 ELSE 0 END AS "__cs_rank2",
    (
      (
        (
          (
            0 + CASE
              WHEN "__cs_loser0"
              AND (
                (
                  "__cs_lost0" > "__cs_lost3"
                ) OR (
                  "__cs_lost0" = "__cs_lost3"
                )
              )
              THEN 1
              ELSE 0
            END
          ) + CASE
            WHEN "__cs_loser1"
            AND (
              (
                "__cs_lost1" > "__cs_lost3"
              ) OR (
                "__cs_lost1" = "__cs_lost3"
              )
            )
            THEN 1
            ELSE 0
          END
        ) + CASE
          WHEN "__cs_loser2"
          AND (
            (
              "__cs_lost2" > "__cs_lost3"
            ) OR (
              "__cs_lost2" = "__cs_lost3"
            )
          )
          THEN 1
          ELSE 0
        END
      ) + CASE WHEN "__cs_loser4" AND (
        "__cs_lost4" > "__cs_lost3"
      ) THEN 1 ELSE 0 END
    ) + CASE WHEN "__cs_loser5" AND (
      "__cs_lost5" > "__cs_lost3"
    ) THEN 1 ELSE 0 END AS "__cs_rank3",
    (
      (
        (
          (
            0 + CASE
              WHEN "__cs_loser0"
              AND (
                (
                  "__cs_lost0" > "__cs_lost4"
                ) OR (
                  "__cs_lost0" = "__cs_lost4"
                )
              )
              THEN 1
              ELSE 0
            END
          ) + CASE
            WHEN "__cs_loser1"
            AND (
              (
                "__cs_lost1" > "__cs_lost4"
              ) OR (
                "__cs_lost1" = "__cs_lost4"
              )
            )
            THEN 1
            ELSE 0
          END
        ) + CASE
          WHEN "__cs_loser2"
          AND (
            (
              "__cs_lost2" > "__cs_lost4"
            ) OR (
              "__cs_lost2" = "__cs_lost4"
            )
          )
          THEN 1
          ELSE 0
        END
      ) + CASE
        WHEN "__cs_loser3"
        AND (
          (
            "__cs_lost3" > "__cs_lost4"
          ) OR (
            "__cs_lost3" = "__cs_lost4"
          )
        )
        THEN 1
        ELSE 0
      END
    ) + CASE WHEN "__cs_loser5" AND (
      "__cs_lost5" > "__cs_lost4"
    ) THEN 1 ELSE 0 END AS "__cs_rank4",
    (
      (
        (
          (
            0 + CASE
              WHEN "__cs_loser0"
              AND (
                (
                  "__cs_lost0" > "__cs_lost5"
                ) OR (
                  "__cs_lost0" = "__cs_lost5"
                )
              )
              THEN 1
              ELSE 0
            END
          ) + CASE
            WHEN "__cs_loser1"
            AND (
              (
                "__cs_lost1" > "__cs_lost5"
              ) OR (
                "__cs_lost1" = "__cs_lost5"
              )
            )
            THEN 1
            ELSE 0
          END
        ) + CASE
          WHEN "__cs_loser2"
          AND (
            (
              "__cs_lost2" > "__cs_lost5"
            ) OR (
              "__cs_lost2" = "__cs_lost5"
            )
          )
          THEN 1
          ELSE 0
        END
      ) + CASE
        WHEN "__cs_loser3"
        AND (
          (
            "__cs_lost3" > "__cs_lost5"
          ) OR (
            "__cs_lost3" = "__cs_lost5"
          )
        )
        THEN 1
        ELSE 0
      END
    ) + CASE
      WHEN "__cs_loser4"
      AND (
        (
          "__cs_lost4" > "__cs_lost5"
        ) OR (
          "__cs_lost4" = "__cs_lost5"
        )
      )
      THEN 1
      ELSE 0
    END AS "__cs_rank5"
  FROM "s13"
), "s15" AS (
  SELECT
    "s14".*,
    (
      (
        DATE_PART(EPOCH_MICROSECOND, "renewal_date")
      ) - CAST(1793491200000000 AS BIGINT)
    ) AS "__cs_b32",
    (
      (
        DATE_PART(EPOCH_MICROSECOND, "renewal_date")
      ) - CAST(1793491200000000 AS BIGINT)
    ) AS "__cs_b34",
    (
      CAST(1793491200000000 AS BIGINT) - (
        DATE_PART(EPOCH_MICROSECOND, "last_login")
      )
    ) AS "__cs_b36",
    (
      NOT (
        CASE WHEN DATE_PART(EPOCH_MICROSECOND, "last_login") IS NULL THEN 0 END IS NULL
      )
    ) AS "__cs_b38",
    CASE WHEN DATE_PART(EPOCH_MICROSECOND, "last_login") IS NULL THEN 0 END AS "__cs_b40",
    (
      (
        DATE_PART(EPOCH_MICROSECOND, "renewal_date")
      ) - CAST(1793491200000000 AS BIGINT)
    ) AS "__cs_b41",
    (
      (
        DATE_PART(EPOCH_MICROSECOND, "renewal_date")
      ) - CAST(1793491200000000 AS BIGINT)
    ) AS "__cs_b46",
    (
      CAST(1793491200000000 AS BIGINT) - (
        DATE_PART(EPOCH_MICROSECOND, "contract_start")
      )
    ) AS "__cs_b51",
    (
      CAST(1793491200000000 AS BIGINT) - (
        DATE_PART(EPOCH_MICROSECOND, "contract_start")
      )
    ) AS "__cs_b53",
    CAST("active_users_30d" AS DOUBLE) AS "__cs_b55",
    (
      CAST('0.9' AS DOUBLE)
    ) * (
      CAST("seats" AS DOUBLE)
    ) AS "__cs_b56",
    (
      (
        (
          (
            "support_sentiment" <= CAST('-0.3' AS DOUBLE)
          )
          AND (
            NOT (
              "support_sentiment" = CAST('NaN' AS DOUBLE)
            )
          )
        )
        AND (
          NOT (
            CAST('-0.3' AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
      )
    ) AS "__cs_b57",
    (
      (
        "support_tickets_30d" >= CAST(2 AS BIGINT)
      )
    ) AS "__cs_b58",
    CASE WHEN "support_sentiment" IS NULL THEN 0 END AS "__cs_b59",
    (
      CAST(1793491200000000 AS BIGINT) - (
        DATE_PART(EPOCH_MICROSECOND, "power_user_last_seen")
      )
    ) AS "__cs_b60",
    (
      CAST(1793491200000000 AS BIGINT) - (
        DATE_PART(EPOCH_MICROSECOND, "sponsor_last_meeting")
      )
    ) AS "__cs_b62",
    (
      (
        (
          NOT (
            CASE WHEN "exec_sponsor" IS NULL THEN 0 END IS NULL
          )
        )
        OR (
          NOT (
            CASE WHEN DATE_PART(EPOCH_MICROSECOND, "sponsor_last_meeting") IS NULL THEN 0 END IS NULL
          )
        )
      )
    ) AS "__cs_b64",
    CASE WHEN DATE_PART(EPOCH_MICROSECOND, "sponsor_last_meeting") IS NULL THEN 0 END AS "__cs_b66"
  FROM "s14"
), "s16" AS (
  SELECT
    "s15".*,
    (
      CASE
        WHEN ABS("__cs_b32") <= CAST(9007199254740992 AS BIGINT)
        THEN CAST("__cs_b32" AS DOUBLE) / CAST('1000000.0' AS DOUBLE)
        ELSE CAST((
          CASE
            WHEN (
              "__cs_b32" < CAST(0 AS BIGINT)
            )
            AND (
              (
                "__cs_b32" % CAST(1000000 AS BIGINT)
              ) <> CAST(0 AS BIGINT)
            )
            THEN CAST(FLOOR(
              CAST(ABS("__cs_b32") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
            ) * (
              SIGN("__cs_b32") * SIGN(CAST(1000000 AS BIGINT))
            ) AS BIGINT) - CAST(1 AS BIGINT)
            ELSE CAST(FLOOR(
              CAST(ABS("__cs_b32") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
            ) * (
              SIGN("__cs_b32") * SIGN(CAST(1000000 AS BIGINT))
            ) AS BIGINT)
          END
        ) AS DOUBLE) + (
          CAST((
            "__cs_b32" - (
              (
                CASE
                  WHEN (
                    "__cs_b32" < CAST(0 AS BIGINT)
                  )
                  AND (
                    (
                      "__cs_b32" % CAST(1000000 AS BIGINT)
                    ) <> CAST(0 AS BIGINT)
                  )
                  THEN CAST(FLOOR(
                    CAST(ABS("__cs_b32") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
                  ) * (
                    SIGN("__cs_b32") * SIGN(CAST(1000000 AS BIGINT))
                  ) AS BIGINT) - CAST(1 AS BIGINT)
                  ELSE CAST(FLOOR(
                    CAST(ABS("__cs_b32") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
                  ) * (
                    SIGN("__cs_b32") * SIGN(CAST(1000000 AS BIGINT))
                  ) AS BIGINT)
                END
              ) * CAST(1000000 AS BIGINT)
            )
          ) AS DOUBLE) / CAST('1000000.0' AS DOUBLE)
        )
      END
    ) / CAST('86400.0' AS DOUBLE) AS "__cs_b33",
    (
      CASE
        WHEN ABS("__cs_b34") <= CAST(9007199254740992 AS BIGINT)
        THEN CAST("__cs_b34" AS DOUBLE) / CAST('1000000.0' AS DOUBLE)
        ELSE CAST((
          CASE
            WHEN (
              "__cs_b34" < CAST(0 AS BIGINT)
            )
            AND (
              (
                "__cs_b34" % CAST(1000000 AS BIGINT)
              ) <> CAST(0 AS BIGINT)
            )
            THEN CAST(FLOOR(
              CAST(ABS("__cs_b34") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
            ) * (
              SIGN("__cs_b34") * SIGN(CAST(1000000 AS BIGINT))
            ) AS BIGINT) - CAST(1 AS BIGINT)
            ELSE CAST(FLOOR(
              CAST(ABS("__cs_b34") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
            ) * (
              SIGN("__cs_b34") * SIGN(CAST(1000000 AS BIGINT))
            ) AS BIGINT)
          END
        ) AS DOUBLE) + (
          CAST((
            "__cs_b34" - (
              (
                CASE
                  WHEN (
                    "__cs_b34" < CAST(0 AS BIGINT)
                  )
                  AND (
                    (
                      "__cs_b34" % CAST(1000000 AS BIGINT)
                    ) <> CAST(0 AS BIGINT)
                  )
                  THEN CAST(FLOOR(
                    CAST(ABS("__cs_b34") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
                  ) * (
                    SIGN("__cs_b34") * SIGN(CAST(1000000 AS BIGINT))
                  ) AS BIGINT) - CAST(1 AS BIGINT)
                  ELSE CAST(FLOOR(
                    CAST(ABS("__cs_b34") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
                  ) * (
                    SIGN("__cs_b34") * SIGN(CAST(1000000 AS BIGINT))
                  ) AS BIGINT)
                END
              ) * CAST(1000000 AS BIGINT)
            )
          ) AS DOUBLE) / CAST('1000000.0' AS DOUBLE)
        )
      END
    ) / CAST('86400.0' AS DOUBLE) AS "__cs_b35",
    (
      CASE
        WHEN ABS("__cs_b36") <= CAST(9007199254740992 AS BIGINT)
        THEN CAST("__cs_b36" AS DOUBLE) / CAST('1000000.0' AS DOUBLE)
        ELSE CAST((
          CASE
            WHEN (
              "__cs_b36" < CAST(0 AS BIGINT)
            )
            AND (
              (
                "__cs_b36" % CAST(1000000 AS BIGINT)
              ) <> CAST(0 AS BIGINT)
            )
            THEN CAST(FLOOR(
              CAST(ABS("__cs_b36") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
            ) * (
              SIGN("__cs_b36") * SIGN(CAST(1000000 AS BIGINT))
            ) AS BIGINT) - CAST(1 AS BIGINT)
            ELSE CAST(FLOOR(
              CAST(ABS("__cs_b36") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
            ) * (
              SIGN("__cs_b36") * SIGN(CAST(1000000 AS BIGINT))
            ) AS BIGINT)
          END
        ) AS DOUBLE) + (
          CAST((
            "__cs_b36" - (
              (
                CASE
                  WHEN (
                    "__cs_b36" < CAST(0 AS BIGINT)
                  )
                  AND (
                    (
                      "__cs_b36" % CAST(1000000 AS BIGINT)
                    ) <> CAST(0 AS BIGINT)
                  )
                  THEN CAST(FLOOR(
                    CAST(ABS("__cs_b36") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
                  ) * (
                    SIGN("__cs_b36") * SIGN(CAST(1000000 AS BIGINT))
                  ) AS BIGINT) - CAST(1 AS BIGINT)
                  ELSE CAST(FLOOR(
                    CAST(ABS("__cs_b36") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
                  ) * (
                    SIGN("__cs_b36") * SIGN(CAST(1000000 AS BIGINT))
                  ) AS BIGINT)
                END
              ) * CAST(1000000 AS BIGINT)
            )
          ) AS DOUBLE) / CAST('1000000.0' AS DOUBLE)
        )
      END
    ) / CAST('86400.0' AS DOUBLE) AS "__cs_b37",
    (
      CASE
        WHEN ABS("__cs_b41") <= CAST(9007199254740992 AS BIGINT)
        THEN CAST("__cs_b41" AS DOUBLE) / CAST('1000000.0' AS DOUBLE)
        ELSE CAST((
          CASE
            WHEN (
              "__cs_b41" < CAST(0 AS BIGINT)
            )
            AND (
              (
                "__cs_b41" % CAST(1000000 AS BIGINT)
              ) <> CAST(0 AS BIGINT)
            )
            THEN CAST(FLOOR(
              CAST(ABS("__cs_b41") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
            ) * (
              SIGN("__cs_b41") * SIGN(CAST(1000000 AS BIGINT))
            ) AS BIGINT) - CAST(1 AS BIGINT)
            ELSE CAST(FLOOR(
              CAST(ABS("__cs_b41") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
            ) * (
              SIGN("__cs_b41") * SIGN(CAST(1000000 AS BIGINT))
            ) AS BIGINT)
          END
        ) AS DOUBLE) + (
          CAST((
            "__cs_b41" - (
              (
                CASE
                  WHEN (
                    "__cs_b41" < CAST(0 AS BIGINT)
                  )
                  AND (
                    (
                      "__cs_b41" % CAST(1000000 AS BIGINT)
                    ) <> CAST(0 AS BIGINT)
                  )
                  THEN CAST(FLOOR(
                    CAST(ABS("__cs_b41") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
                  ) * (
                    SIGN("__cs_b41") * SIGN(CAST(1000000 AS BIGINT))
                  ) AS BIGINT) - CAST(1 AS BIGINT)
                  ELSE CAST(FLOOR(
                    CAST(ABS("__cs_b41") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
                  ) * (
                    SIGN("__cs_b41") * SIGN(CAST(1000000 AS BIGINT))
                  ) AS BIGINT)
                END
              ) * CAST(1000000 AS BIGINT)
            )
          ) AS DOUBLE) / CAST('1000000.0' AS DOUBLE)
        )
      END
    ) / CAST('86400.0' AS DOUBLE) AS "__cs_b42",
    (
      CASE
        WHEN ABS("__cs_b46") <= CAST(9007199254740992 AS BIGINT)
        THEN CAST("__cs_b46" AS DOUBLE) / CAST('1000000.0' AS DOUBLE)
        ELSE CAST((
          CASE
            WHEN (
              "__cs_b46" < CAST(0 AS BIGINT)
            )
            AND (
              (
                "__cs_b46" % CAST(1000000 AS BIGINT)
              ) <> CAST(0 AS BIGINT)
            )
            THEN CAST(FLOOR(
              CAST(ABS("__cs_b46") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
            ) * (
              SIGN("__cs_b46") * SIGN(CAST(1000000 AS BIGINT))
            ) AS BIGINT) - CAST(1 AS BIGINT)
            ELSE CAST(FLOOR(
              CAST(ABS("__cs_b46") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
            ) * (
              SIGN("__cs_b46") * SIGN(CAST(1000000 AS BIGINT))
            ) AS BIGINT)
          END
        ) AS DOUBLE) + (
          CAST((
            "__cs_b46" - (
              (
                CASE
                  WHEN (
                    "__cs_b46" < CAST(0 AS BIGINT)
                  )
                  AND (
                    (
                      "__cs_b46" % CAST(1000000 AS BIGINT)
                    ) <> CAST(0 AS BIGINT)
                  )
                  THEN CAST(FLOOR(
                    CAST(ABS("__cs_b46") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
                  ) * (
                    SIGN("__cs_b46") * SIGN(CAST(1000000 AS BIGINT))
                  ) AS BIGINT) - CAST(1 AS BIGINT)
                  ELSE CAST(FLOOR(
                    CAST(ABS("__cs_b46") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
                  ) * (
                    SIGN("__cs_b46") * SIGN(CAST(1000000 AS BIGINT))
                  ) AS BIGINT)
                END
              ) * CAST(1000000 AS BIGINT)
            )
          ) AS DOUBLE) / CAST('1000000.0' AS DOUBLE)
        )
      END
    ) / CAST('86400.0' AS DOUBLE) AS "__cs_b47",
    (
      CASE
        WHEN ABS("__cs_b51") <= CAST(9007199254740992 AS BIGINT)
        THEN CAST("__cs_b51" AS DOUBLE) / CAST('1000000.0' AS DOUBLE)
        ELSE CAST((
          CASE
            WHEN (
              "__cs_b51" < CAST(0 AS BIGINT)
            )
            AND (
              (
                "__cs_b51" % CAST(1000000 AS BIGINT)
              ) <> CAST(0 AS BIGINT)
            )
            THEN CAST(FLOOR(
              CAST(ABS("__cs_b51") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
            ) * (
              SIGN("__cs_b51") * SIGN(CAST(1000000 AS BIGINT))
            ) AS BIGINT) - CAST(1 AS BIGINT)
            ELSE CAST(FLOOR(
              CAST(ABS("__cs_b51") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
            ) * (
              SIGN("__cs_b51") * SIGN(CAST(1000000 AS BIGINT))
            ) AS BIGINT)
          END
        ) AS DOUBLE) + (
          CAST((
            "__cs_b51" - (
              (
                CASE
                  WHEN (
                    "__cs_b51" < CAST(0 AS BIGINT)
                  )
                  AND (
                    (
                      "__cs_b51" % CAST(1000000 AS BIGINT)
                    ) <> CAST(0 AS BIGINT)
                  )
                  THEN CAST(FLOOR(
                    CAST(ABS("__cs_b51") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
                  ) * (
                    SIGN("__cs_b51") * SIGN(CAST(1000000 AS BIGINT))
                  ) AS BIGINT) - CAST(1 AS BIGINT)
                  ELSE CAST(FLOOR(
                    CAST(ABS("__cs_b51") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
                  ) * (
                    SIGN("__cs_b51") * SIGN(CAST(1000000 AS BIGINT))
                  ) AS BIGINT)
                END
              ) * CAST(1000000 AS BIGINT)
            )
          ) AS DOUBLE) / CAST('1000000.0' AS DOUBLE)
        )
      END
    ) / CAST('86400.0' AS DOUBLE) AS "__cs_b52",
    (
      CASE
        WHEN ABS("__cs_b53") <= CAST(9007199254740992 AS BIGINT)
        THEN CAST("__cs_b53" AS DOUBLE) / CAST('1000000.0' AS DOUBLE)
        ELSE CAST((
          CASE
            WHEN (
              "__cs_b53" < CAST(0 AS BIGINT)
            )
            AND (
              (
                "__cs_b53" % CAST(1000000 AS BIGINT)
              ) <> CAST(0 AS BIGINT)
            )
            THEN CAST(FLOOR(
              CAST(ABS("__cs_b53") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
            ) * (
              SIGN("__cs_b53") * SIGN(CAST(1000000 AS BIGINT))
            ) AS BIGINT) - CAST(1 AS BIGINT)
            ELSE CAST(FLOOR(
              CAST(ABS("__cs_b53") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
            ) * (
              SIGN("__cs_b53") * SIGN(CAST(1000000 AS BIGINT))
            ) AS BIGINT)
          END
        ) AS DOUBLE) + (
          CAST((
            "__cs_b53" - (
              (
                CASE
                  WHEN (
                    "__cs_b53" < CAST(0 AS BIGINT)
                  )
                  AND (
                    (
                      "__cs_b53" % CAST(1000000 AS BIGINT)
                    ) <> CAST(0 AS BIGINT)
                  )
                  THEN CAST(FLOOR(
                    CAST(ABS("__cs_b53") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
                  ) * (
                    SIGN("__cs_b53") * SIGN(CAST(1000000 AS BIGINT))
                  ) AS BIGINT) - CAST(1 AS BIGINT)
                  ELSE CAST(FLOOR(
                    CAST(ABS("__cs_b53") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
                  ) * (
                    SIGN("__cs_b53") * SIGN(CAST(1000000 AS BIGINT))
                  ) AS BIGINT)
                END
              ) * CAST(1000000 AS BIGINT)
            )
          ) AS DOUBLE) / CAST('1000000.0' AS DOUBLE)
        )
      END
    ) / CAST('86400.0' AS DOUBLE) AS "__cs_b54",
    (
      CASE
        WHEN ABS("__cs_b60") <= CAST(9007199254740992 AS BIGINT)
        THEN CAST("__cs_b60" AS DOUBLE) / CAST('1000000.0' AS DOUBLE)
        ELSE CAST((
          CASE
            WHEN (
              "__cs_b60" < CAST(0 AS BIGINT)
            )
            AND (
              (
                "__cs_b60" % CAST(1000000 AS BIGINT)
              ) <> CAST(0 AS BIGINT)
            )
            THEN CAST(FLOOR(
              CAST(ABS("__cs_b60") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
            ) * (
              SIGN("__cs_b60") * SIGN(CAST(1000000 AS BIGINT))
            ) AS BIGINT) - CAST(1 AS BIGINT)
            ELSE CAST(FLOOR(
              CAST(ABS("__cs_b60") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
            ) * (
              SIGN("__cs_b60") * SIGN(CAST(1000000 AS BIGINT))
            ) AS BIGINT)
          END
        ) AS DOUBLE) + (
          CAST((
            "__cs_b60" - (
              (
                CASE
                  WHEN (
                    "__cs_b60" < CAST(0 AS BIGINT)
                  )
                  AND (
                    (
                      "__cs_b60" % CAST(1000000 AS BIGINT)
                    ) <> CAST(0 AS BIGINT)
                  )
                  THEN CAST(FLOOR(
                    CAST(ABS("__cs_b60") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
                  ) * (
                    SIGN("__cs_b60") * SIGN(CAST(1000000 AS BIGINT))
                  ) AS BIGINT) - CAST(1 AS BIGINT)
                  ELSE CAST(FLOOR(
                    CAST(ABS("__cs_b60") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
                  ) * (
                    SIGN("__cs_b60") * SIGN(CAST(1000000 AS BIGINT))
                  ) AS BIGINT)
                END
              ) * CAST(1000000 AS BIGINT)
            )
          ) AS DOUBLE) / CAST('1000000.0' AS DOUBLE)
        )
      END
    ) / CAST('86400.0' AS DOUBLE) AS "__cs_b61",
    (
      CASE
        WHEN ABS("__cs_b62") <= CAST(9007199254740992 AS BIGINT)
        THEN CAST("__cs_b62" AS DOUBLE) / CAST('1000000.0' AS DOUBLE)
        ELSE CAST((
          CASE
            WHEN (
              "__cs_b62" < CAST(0 AS BIGINT)
            )
            AND (
              (
                "__cs_b62" % CAST(1000000 AS BIGINT)
              ) <> CAST(0 AS BIGINT)
            )
            THEN CAST(FLOOR(
              CAST(ABS("__cs_b62") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
            ) * (
              SIGN("__cs_b62") * SIGN(CAST(1000000 AS BIGINT))
            ) AS BIGINT) - CAST(1 AS BIGINT)
            ELSE CAST(FLOOR(
              CAST(ABS("__cs_b62") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
            ) * (
              SIGN("__cs_b62") * SIGN(CAST(1000000 AS BIGINT))
            ) AS BIGINT)
          END
        ) AS DOUBLE) + (
          CAST((
            "__cs_b62" - (
              (
                CASE
                  WHEN (
                    "__cs_b62" < CAST(0 AS BIGINT)
                  )
                  AND (
                    (
                      "__cs_b62" % CAST(1000000 AS BIGINT)
                    ) <> CAST(0 AS BIGINT)
                  )
                  THEN CAST(FLOOR(
                    CAST(ABS("__cs_b62") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
                  ) * (
                    SIGN("__cs_b62") * SIGN(CAST(1000000 AS BIGINT))
                  ) AS BIGINT) - CAST(1 AS BIGINT)
                  ELSE CAST(FLOOR(
                    CAST(ABS("__cs_b62") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
                  ) * (
                    SIGN("__cs_b62") * SIGN(CAST(1000000 AS BIGINT))
                  ) AS BIGINT)
                END
              ) * CAST(1000000 AS BIGINT)
            )
          ) AS DOUBLE) / CAST('1000000.0' AS DOUBLE)
        )
      END
    ) / CAST('86400.0' AS DOUBLE) AS "__cs_b63"
  FROM "s15"
), "s17" AS (
  SELECT
    "s16".*,
    (
      (
        (
          (
            "__cs_b37" >= CAST('10.0' AS DOUBLE)
          )
          AND (
            NOT (
              "__cs_b37" = CAST('NaN' AS DOUBLE)
            )
          )
        )
        AND (
          NOT (
            CAST('10.0' AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
      )
    ) AS "__cs_b39",
    (
      (
        (
          (
            "__cs_b42" >= CAST('0.0' AS DOUBLE)
          )
          AND (
            NOT (
              "__cs_b42" = CAST('NaN' AS DOUBLE)
            )
          )
        )
        AND (
          NOT (
            CAST('0.0' AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
      )
    ) AS "__cs_b44",
    (
      (
        (
          (
            "__cs_b47" <= CAST('90.0' AS DOUBLE)
          )
          AND (
            NOT (
              "__cs_b47" = CAST('NaN' AS DOUBLE)
            )
          )
        )
        AND (
          NOT (
            CAST('90.0' AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
      )
    ) AS "__cs_b49",
    (
      (
        (
          (
            "__cs_b63" > CAST('90.0' AS DOUBLE)
          )
          AND (
            NOT (
              "__cs_b63" = CAST('NaN' AS DOUBLE)
            )
          )
        )
        AND (
          NOT (
            CAST('90.0' AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
      )
    ) AS "__cs_b65"
  FROM "s16"
), "s18" AS (
  SELECT
    "s17".*,
    (
      COALESCE(
        (
          (
            TRUE AND "__cs_b38"
          ) OR (
            (
              "__cs_b40" IS NULL
            ) AND "__cs_b39"
          )
        ),
        FALSE
      )
    ) AS "__cs_b43",
    CASE
      WHEN (
        (
          TRUE AND "__cs_b38"
        ) OR (
          (
            "__cs_b40" IS NULL
          ) AND "__cs_b39"
        )
      )
      THEN NULL
      WHEN TRUE
      THEN "__cs_b40"
      WHEN "__cs_b40" IS NULL
      THEN NULL
      ELSE 3
    END AS "__cs_b45"
  FROM "s17"
), "s19" AS (
  SELECT
    "s18".*,
    (
      COALESCE(
        NOT (
          (
            (
              "__cs_b45" IS NULL
            ) AND (
              NOT "__cs_b43"
            )
          )
          OR (
            TRUE AND (
              NOT "__cs_b44"
            )
          )
        ),
        FALSE
      )
    ) AS "__cs_b48",
    CASE
      WHEN (
        (
          (
            "__cs_b45" IS NULL
          ) AND (
            NOT "__cs_b43"
          )
        )
        OR (
          TRUE AND (
            NOT "__cs_b44"
          )
        )
      )
      THEN NULL
      WHEN "__cs_b45" IS NULL
      THEN NULL
      WHEN TRUE
      THEN "__cs_b45"
      ELSE 4
    END AS "__cs_b50"
  FROM "s18"
), "s20" AS (
  SELECT
    "s19".*,
    (
      (
        (
          (
            (
              "__cs_b33" >= CAST('0.0' AS DOUBLE)
            )
            AND (
              NOT (
                "__cs_b33" = CAST('NaN' AS DOUBLE)
              )
            )
          )
          AND (
            NOT (
              CAST('0.0' AS DOUBLE) = CAST('NaN' AS DOUBLE)
            )
          )
        )
      )
      AND (
        (
          (
            (
              "__cs_b35" <= CAST('90.0' AS DOUBLE)
            )
            AND (
              NOT (
                "__cs_b35" = CAST('NaN' AS DOUBLE)
              )
            )
          )
          AND (
            NOT (
              CAST('90.0' AS DOUBLE) = CAST('NaN' AS DOUBLE)
            )
          )
        )
      )
    ) AS "__cs_g0_v",
    CAST(NULL AS INT) AS "__cs_g0_f",
    COALESCE(
      NOT (
        (
          (
            "__cs_b50" IS NULL
          ) AND (
            NOT "__cs_b48"
          )
        )
        OR (
          TRUE AND (
            NOT "__cs_b49"
          )
        )
      ),
      FALSE
    ) AS "__cs_g1_v",
    CASE
      WHEN (
        (
          (
            "__cs_b50" IS NULL
          ) AND (
            NOT "__cs_b48"
          )
        )
        OR (
          TRUE AND (
            NOT "__cs_b49"
          )
        )
      )
      THEN NULL
      WHEN "__cs_b50" IS NULL
      THEN NULL
      WHEN TRUE
      THEN "__cs_b50"
      ELSE 4
    END AS "__cs_g1_f",
    (
      (
        (
          (
            (
              "__cs_b52" >= CAST('0.0' AS DOUBLE)
            )
            AND (
              NOT (
                "__cs_b52" = CAST('NaN' AS DOUBLE)
              )
            )
          )
          AND (
            NOT (
              CAST('0.0' AS DOUBLE) = CAST('NaN' AS DOUBLE)
            )
          )
        )
      )
      AND (
        (
          (
            (
              "__cs_b54" <= CAST('90.0' AS DOUBLE)
            )
            AND (
              NOT (
                "__cs_b54" = CAST('NaN' AS DOUBLE)
              )
            )
          )
          AND (
            NOT (
              CAST('90.0' AS DOUBLE) = CAST('NaN' AS DOUBLE)
            )
          )
        )
      )
    ) AS "__cs_g2_v",
    CAST(NULL AS INT) AS "__cs_g2_f",
    (
      (
        (
          "__cs_n1" < CAST('0.2' AS DOUBLE)
        )
        AND (
          NOT (
            "__cs_n1" = CAST('NaN' AS DOUBLE)
          )
        )
      )
      AND (
        NOT (
          CAST('0.2' AS DOUBLE) = CAST('NaN' AS DOUBLE)
        )
      )
    ) AS "__cs_g3_v",
    CASE WHEN "__cs_n1" IS NULL THEN 0 END AS "__cs_g3_f",
    (
      "__cs_band" = 'red'
    ) AS "__cs_g4_v",
    CAST(NULL AS INT) AS "__cs_g4_f",
    (
      (
        (
          "__cs_band" = 'green'
        )
      )
      AND (
        (
          (
            (
              "__cs_b55" >= "__cs_b56"
            )
            AND (
              NOT (
                "__cs_b55" = CAST('NaN' AS DOUBLE)
              )
            )
          )
          AND (
            NOT (
              "__cs_b56" = CAST('NaN' AS DOUBLE)
            )
          )
        )
      )
    ) AS "__cs_g5_v",
    CAST(NULL AS INT) AS "__cs_g5_f",
    COALESCE(
      NOT (
        (
          (
            "__cs_b59" IS NULL
          ) AND (
            NOT "__cs_b57"
          )
        )
        OR (
          TRUE AND (
            NOT "__cs_b58"
          )
        )
      ),
      FALSE
    ) AS "__cs_g6_v",
    CASE
      WHEN (
        (
          (
            "__cs_b59" IS NULL
          ) AND (
            NOT "__cs_b57"
          )
        )
        OR (
          TRUE AND (
            NOT "__cs_b58"
          )
        )
      )
      THEN NULL
      WHEN "__cs_b59" IS NULL
      THEN NULL
      WHEN TRUE
      THEN "__cs_b59"
      ELSE 4
    END AS "__cs_g6_f",
    (
      (
        (
          "__cs_b61" >= CAST('14.0' AS DOUBLE)
        )
        AND (
          NOT (
            "__cs_b61" = CAST('NaN' AS DOUBLE)
          )
        )
      )
      AND (
        NOT (
          CAST('14.0' AS DOUBLE) = CAST('NaN' AS DOUBLE)
        )
      )
    ) AS "__cs_g7_v",
    CASE WHEN DATE_PART(EPOCH_MICROSECOND, "power_user_last_seen") IS NULL THEN 0 END AS "__cs_g7_f",
    COALESCE(
      (
        (
          TRUE AND "__cs_b64"
        ) OR (
          (
            "__cs_b66" IS NULL
          ) AND "__cs_b65"
        )
      ),
      FALSE
    ) AS "__cs_g8_v",
    CASE
      WHEN (
        (
          TRUE AND "__cs_b64"
        ) OR (
          (
            "__cs_b66" IS NULL
          ) AND "__cs_b65"
        )
      )
      THEN NULL
      WHEN TRUE
      THEN "__cs_b66"
      WHEN "__cs_b66" IS NULL
      THEN NULL
      ELSE 3
    END AS "__cs_g8_f"
  FROM "s19"
), "s21" AS (
  SELECT
    "s20".*,
    (
      COALESCE(ARRAY_CONTAINS(CAST('strategic' AS VARIANT), "tags"), FALSE)
    ) AS "__cs_b67",
    (
      (
        (
          (
            "arr" >= "__cs_pf0"
          ) AND (
            NOT (
              "arr" = CAST('NaN' AS DOUBLE)
            )
          )
        )
        AND (
          NOT (
            "__cs_pf0" = CAST('NaN' AS DOUBLE)
          )
        )
      )
    ) AS "__cs_b68",
    CASE WHEN "__cs_pf0" IS NULL THEN 0 END AS "__cs_b69",
    CAST("active_users_30d" AS DOUBLE) AS "__cs_b70",
    (
      (
        (
          (
            "arr" >= CAST('40000.0' AS DOUBLE)
          )
          AND (
            NOT (
              "arr" = CAST('NaN' AS DOUBLE)
            )
          )
        )
        AND (
          NOT (
            CAST('40000.0' AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
      )
    ) AS "__cs_b71",
    CASE WHEN "__cs_pf1" IS NULL THEN 0 END AS "__cs_b73",
    (
      NOT (
        COALESCE(ARRAY_CONTAINS(CAST('internal' AS VARIANT), "tags"), FALSE)
      )
    ) AS "__cs_b78",
    (
      (
        (
          (
            "arr" >= CAST('5000.0' AS DOUBLE)
          )
          AND (
            NOT (
              "arr" = CAST('NaN' AS DOUBLE)
            )
          )
        )
        AND (
          NOT (
            CAST('5000.0' AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
      )
    ) AS "__cs_b81",
    (
      (
        (
          (
            "__cs_n1" >= CAST('0.8' AS DOUBLE)
          )
          AND (
            NOT (
              "__cs_n1" = CAST('NaN' AS DOUBLE)
            )
          )
        )
        AND (
          NOT (
            CAST('0.8' AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
      )
    ) AS "__cs_b82",
    CASE WHEN "__cs_n1" IS NULL THEN 0 END AS "__cs_b83",
    (
      (
        "integrations_completed" >= CAST(2 AS BIGINT)
      )
    ) AS "__cs_b85",
    (
      (
        (
          (
            "arr" >= CAST('15000.0' AS DOUBLE)
          )
          AND (
            NOT (
              "arr" = CAST('NaN' AS DOUBLE)
            )
          )
        )
        AND (
          NOT (
            CAST('15000.0' AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
      )
    ) AS "__cs_b87",
    (
      NOT (
        COALESCE(ARRAY_CONTAINS(CAST('internal' AS VARIANT), "tags"), FALSE)
      )
    ) AS "__cs_b90"
  FROM "s20"
), "s22" AS (
  SELECT
    "s21".*,
    (
      (
        (
          (
            "__cs_b70" >= "__cs_pf1"
          )
          AND (
            NOT (
              "__cs_b70" = CAST('NaN' AS DOUBLE)
            )
          )
        )
        AND (
          NOT (
            "__cs_pf1" = CAST('NaN' AS DOUBLE)
          )
        )
      )
    ) AS "__cs_b72",
    (
      COALESCE(
        (
          (
            TRUE AND "__cs_b67"
          ) OR (
            (
              "__cs_b69" IS NULL
            ) AND "__cs_b68"
          )
        ),
        FALSE
      )
    ) AS "__cs_b74",
    CASE
      WHEN (
        (
          TRUE AND "__cs_b67"
        ) OR (
          (
            "__cs_b69" IS NULL
          ) AND "__cs_b68"
        )
      )
      THEN NULL
      WHEN TRUE
      THEN "__cs_b69"
      WHEN "__cs_b69" IS NULL
      THEN NULL
      ELSE 3
    END AS "__cs_b76",
    (
      COALESCE(
        NOT (
          (
            TRUE AND (
              NOT "__cs_b81"
            )
          )
          OR (
            (
              "__cs_b83" IS NULL
            ) AND (
              NOT "__cs_b82"
            )
          )
        ),
        FALSE
      )
    ) AS "__cs_b84",
    CASE
      WHEN (
        (
          TRUE AND (
            NOT "__cs_b81"
          )
        )
        OR (
          (
            "__cs_b83" IS NULL
          ) AND (
            NOT "__cs_b82"
          )
        )
      )
      THEN NULL
      WHEN TRUE
      THEN "__cs_b83"
      WHEN "__cs_b83" IS NULL
      THEN NULL
      ELSE 4
    END AS "__cs_b86"
  FROM "s21"
), "s23" AS (
  SELECT
    "s22".*,
    (
      COALESCE(
        NOT (
          (
            TRUE AND (
              NOT "__cs_b71"
            )
          )
          OR (
            (
              "__cs_b73" IS NULL
            ) AND (
              NOT "__cs_b72"
            )
          )
        ),
        FALSE
      )
    ) AS "__cs_b75",
    CASE
      WHEN (
        (
          TRUE AND (
            NOT "__cs_b71"
          )
        )
        OR (
          (
            "__cs_b73" IS NULL
          ) AND (
            NOT "__cs_b72"
          )
        )
      )
      THEN NULL
      WHEN TRUE
      THEN "__cs_b73"
      WHEN "__cs_b73" IS NULL
      THEN NULL
      ELSE 4
    END AS "__cs_b77",
    (
      COALESCE(
        NOT (
          (
            (
              "__cs_b86" IS NULL
            ) AND (
              NOT "__cs_b84"
            )
          )
          OR (
            TRUE AND (
              NOT "__cs_b85"
            )
          )
        ),
        FALSE
      )
    ) AS "__cs_b88",
    CASE
      WHEN (
        (
          (
            "__cs_b86" IS NULL
          ) AND (
            NOT "__cs_b84"
          )
        )
        OR (
          TRUE AND (
            NOT "__cs_b85"
          )
        )
      )
      THEN NULL
      WHEN "__cs_b86" IS NULL
      THEN NULL
      WHEN TRUE
      THEN "__cs_b86"
      ELSE 4
    END AS "__cs_b89"
  FROM "s22"
), "s24" AS (
  SELECT
    "s23".*,
    (
      COALESCE(
        (
          (
            (
              "__cs_b76" IS NULL
            ) AND "__cs_b74"
          )
          OR (
            (
              "__cs_b77" IS NULL
            ) AND "__cs_b75"
          )
        ),
        FALSE
      )
    ) AS "__cs_b79",
    CASE
      WHEN (
        (
          (
            "__cs_b76" IS NULL
          ) AND "__cs_b74"
        )
        OR (
          (
            "__cs_b77" IS NULL
          ) AND "__cs_b75"
        )
      )
      THEN NULL
      WHEN "__cs_b76" IS NULL
      THEN "__cs_b77"
      WHEN "__cs_b77" IS NULL
      THEN "__cs_b76"
      ELSE 3
    END AS "__cs_b80",
    (
      COALESCE(
        (
          (
            TRUE AND "__cs_b87"
          ) OR (
            (
              "__cs_b89" IS NULL
            ) AND "__cs_b88"
          )
        ),
        FALSE
      )
    ) AS "__cs_b91",
    CASE
      WHEN (
        (
          TRUE AND "__cs_b87"
        ) OR (
          (
            "__cs_b89" IS NULL
          ) AND "__cs_b88"
        )
      )
      THEN NULL
      WHEN TRUE
      THEN "__cs_b89"
      WHEN "__cs_b89" IS NULL
      THEN NULL
      ELSE 3
    END AS "__cs_b92"
  FROM "s23"
), "s25" AS (
  SELECT
    "s24".*,
    COALESCE(
      NOT (
        (
          TRUE AND (
            NOT "__cs_b78"
          )
        )
        OR (
          (
            "__cs_b80" IS NULL
          ) AND (
            NOT "__cs_b79"
          )
        )
      ),
      FALSE
    ) AS "__cs_t0_v",
    CASE
      WHEN (
        (
          TRUE AND (
            NOT "__cs_b78"
          )
        )
        OR (
          (
            "__cs_b80" IS NULL
          ) AND (
            NOT "__cs_b79"
          )
        )
      )
      THEN NULL
      WHEN TRUE
      THEN "__cs_b80"
      WHEN "__cs_b80" IS NULL
      THEN NULL
      ELSE 4
    END AS "__cs_t0_f",
    COALESCE(
      NOT (
        (
          TRUE AND (
            NOT "__cs_b90"
          )
        )
        OR (
          (
            "__cs_b92" IS NULL
          ) AND (
            NOT "__cs_b91"
          )
        )
      ),
      FALSE
    ) AS "__cs_t1_v",
    CASE
      WHEN (
        (
          TRUE AND (
            NOT "__cs_b90"
          )
        )
        OR (
          (
            "__cs_b92" IS NULL
          ) AND (
            NOT "__cs_b91"
          )
        )
      )
      THEN NULL
      WHEN TRUE
      THEN "__cs_b92"
      WHEN "__cs_b92" IS NULL
      THEN NULL
      ELSE 4
    END AS "__cs_t1_f",
    TRUE AS "__cs_t2_v",
    CAST(NULL AS INT) AS "__cs_t2_f"
  FROM "s24"
), "s26" AS (
  SELECT
    "s25".*,
    CASE
      WHEN (
        "__cs_t0_f" IS NULL
      ) AND COALESCE("__cs_t0_v", FALSE)
      THEN 'high_touch'
      WHEN COALESCE("__cs_t0_f" > 0, FALSE)
      THEN NULL
      WHEN (
        "__cs_t1_f" IS NULL
      ) AND COALESCE("__cs_t1_v", FALSE)
      THEN 'pooled'
      WHEN COALESCE("__cs_t1_f" > 0, FALSE)
      THEN NULL
      WHEN (
        "__cs_t2_f" IS NULL
      ) AND COALESCE("__cs_t2_v", FALSE)
      THEN 'tech_touch'
      WHEN COALESCE("__cs_t2_f" > 0, FALSE)
      THEN NULL
    END AS "__cs_tier"
  FROM "s25"
), "s27" AS (
  SELECT
    "s26".*,
    CAST("adkar.awareness" AS DOUBLE) AS "__cs_b93",
    CASE WHEN "adkar.awareness" IS NULL THEN 0 END AS "__cs_b96",
    CAST("adkar.desire" AS DOUBLE) AS "__cs_b97",
    CASE WHEN "adkar.desire" IS NULL THEN 0 END AS "__cs_b100",
    COALESCE((
      CAST(ARRAY_SIZE("champions") AS BIGINT) = CAST(0 AS BIGINT)
    ), FALSE) AS "__cs_b101",
    COALESCE(
      (
        (
          (
            "training_completion" >= CAST('0.5' AS DOUBLE)
          )
          AND (
            NOT (
              "training_completion" = CAST('NaN' AS DOUBLE)
            )
          )
        )
        AND (
          NOT (
            CAST('0.5' AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
      ),
      FALSE
    ) AS "__cs_b102",
    COALESCE(
      (
        (
          (
            "training_completion" >= CAST('0.8' AS DOUBLE)
          )
          AND (
            NOT (
              "training_completion" = CAST('NaN' AS DOUBLE)
            )
          )
        )
        AND (
          NOT (
            CAST('0.8' AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
      ),
      FALSE
    ) AS "__cs_b103",
    COALESCE((
      "integrations_completed" >= CAST(1 AS BIGINT)
    ), FALSE) AS "__cs_b104",
    COALESCE("activated", FALSE) AS "__cs_b105",
    CAST("adkar.reinforcement" AS DOUBLE) AS "__cs_b106",
    CASE WHEN "adkar.reinforcement" IS NULL THEN 0 END AS "__cs_b109",
    (
      CAST(1793491200000000 AS BIGINT) - (
        DATE_PART(EPOCH_MICROSECOND, "last_qbr")
      )
    ) AS "__cs_b110",
    CASE WHEN DATE_PART(EPOCH_MICROSECOND, "last_qbr") IS NULL THEN 0 END AS "__cs_b113",
    COALESCE(CASE WHEN "adkar.reinforcement" IS NULL THEN 0 END IS NULL, FALSE) AS "__cs_b114"
  FROM "s26"
), "s28" AS (
  SELECT
    "s27".*,
    CASE
      WHEN (
        (
          CAST(CAST(1 AS BIGINT) AS DOUBLE) > "__cs_b93"
        )
        AND (
          NOT (
            CAST(CAST(1 AS BIGINT) AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
      )
      AND (
        NOT (
          "__cs_b93" = CAST('NaN' AS DOUBLE)
        )
      )
      THEN CAST(CAST(1 AS BIGINT) AS DOUBLE)
      ELSE "__cs_b93"
    END AS "__cs_b94",
    CASE
      WHEN (
        (
          CAST(CAST(1 AS BIGINT) AS DOUBLE) > "__cs_b97"
        )
        AND (
          NOT (
            CAST(CAST(1 AS BIGINT) AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
      )
      AND (
        NOT (
          "__cs_b97" = CAST('NaN' AS DOUBLE)
        )
      )
      THEN CAST(CAST(1 AS BIGINT) AS DOUBLE)
      ELSE "__cs_b97"
    END AS "__cs_b98",
    CASE
      WHEN (
        (
          CAST(CAST(1 AS BIGINT) AS DOUBLE) > "__cs_b106"
        )
        AND (
          NOT (
            CAST(CAST(1 AS BIGINT) AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
      )
      AND (
        NOT (
          "__cs_b106" = CAST('NaN' AS DOUBLE)
        )
      )
      THEN CAST(CAST(1 AS BIGINT) AS DOUBLE)
      ELSE "__cs_b106"
    END AS "__cs_b107",
    (
      CASE
        WHEN ABS("__cs_b110") <= CAST(9007199254740992 AS BIGINT)
        THEN CAST("__cs_b110" AS DOUBLE) / CAST('1000000.0' AS DOUBLE)
        ELSE CAST((
          CASE
            WHEN (
              "__cs_b110" < CAST(0 AS BIGINT)
            )
            AND (
              (
                "__cs_b110" % CAST(1000000 AS BIGINT)
              ) <> CAST(0 AS BIGINT)
            )
            THEN CAST(FLOOR(
              CAST(ABS("__cs_b110") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
            ) * (
              SIGN("__cs_b110") * SIGN(CAST(1000000 AS BIGINT))
            ) AS BIGINT) - CAST(1 AS BIGINT)
            ELSE CAST(FLOOR(
              CAST(ABS("__cs_b110") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
            ) * (
              SIGN("__cs_b110") * SIGN(CAST(1000000 AS BIGINT))
            ) AS BIGINT)
          END
        ) AS DOUBLE) + (
          CAST((
            "__cs_b110" - (
              (
                CASE
                  WHEN (
                    "__cs_b110" < CAST(0 AS BIGINT)
                  )
                  AND (
                    (
                      "__cs_b110" % CAST(1000000 AS BIGINT)
                    ) <> CAST(0 AS BIGINT)
                  )
                  THEN CAST(FLOOR(
                    CAST(ABS("__cs_b110") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
                  ) * (
                    SIGN("__cs_b110") * SIGN(CAST(1000000 AS BIGINT))
                  ) AS BIGINT) - CAST(1 AS BIGINT)
                  ELSE CAST(FLOOR(
                    CAST(ABS("__cs_b110") AS DECIMAL(38, 0)) / CAST(ABS(CAST(1000000 AS BIGINT)) AS DECIMAL(38, 0))
                  ) * (
                    SIGN("__cs_b110") * SIGN(CAST(1000000 AS BIGINT))
                  ) AS BIGINT)
                END
              ) * CAST(1000000 AS BIGINT)
            )
          ) AS DOUBLE) / CAST('1000000.0' AS DOUBLE)
        )
      END
    ) / CAST('86400.0' AS DOUBLE) AS "__cs_b111"
  FROM "s27"
), "s29" AS (
  SELECT
    "s28".*,
    CASE
      WHEN (
        (
          CAST(CAST(5 AS BIGINT) AS DOUBLE) < "__cs_b94"
        )
        AND (
          NOT (
            "__cs_b94" = CAST('NaN' AS DOUBLE)
          )
        )
      )
      AND (
        NOT (
          CAST(CAST(5 AS BIGINT) AS DOUBLE) = CAST('NaN' AS DOUBLE)
        )
      )
      THEN CAST(CAST(5 AS BIGINT) AS DOUBLE)
      ELSE "__cs_b94"
    END AS "__cs_b95",
    CASE
      WHEN (
        (
          CAST(CAST(5 AS BIGINT) AS DOUBLE) < "__cs_b98"
        )
        AND (
          NOT (
            "__cs_b98" = CAST('NaN' AS DOUBLE)
          )
        )
      )
      AND (
        NOT (
          CAST(CAST(5 AS BIGINT) AS DOUBLE) = CAST('NaN' AS DOUBLE)
        )
      )
      THEN CAST(CAST(5 AS BIGINT) AS DOUBLE)
      ELSE "__cs_b98"
    END AS "__cs_b99",
    CASE
      WHEN (
        (
          CAST(CAST(5 AS BIGINT) AS DOUBLE) < "__cs_b107"
        )
        AND (
          NOT (
            "__cs_b107" = CAST('NaN' AS DOUBLE)
          )
        )
      )
      AND (
        NOT (
          CAST(CAST(5 AS BIGINT) AS DOUBLE) = CAST('NaN' AS DOUBLE)
        )
      )
      THEN CAST(CAST(5 AS BIGINT) AS DOUBLE)
      ELSE "__cs_b107"
    END AS "__cs_b108",
    COALESCE(
      (
        (
          (
            "__cs_b111" <= CAST('100.0' AS DOUBLE)
          )
          AND (
            NOT (
              "__cs_b111" = CAST('NaN' AS DOUBLE)
            )
          )
        )
        AND (
          NOT (
            CAST('100.0' AS DOUBLE) = CAST('NaN' AS DOUBLE)
          )
        )
      ),
      FALSE
    ) AS "__cs_b112"
  FROM "s28"
), "s30" AS (
  SELECT
    "s29".*,
    CASE
      WHEN (
        (
          NOT (
            "__cs_b95" = CAST('NaN' AS DOUBLE)
          )
        )
        AND (
          NOT (
            ABS("__cs_b95") = CAST('Infinity' AS DOUBLE)
          )
        )
      )
      AND (
        NOT (
          (
            "__cs_b95" < CAST('-9.223372036854776e+18' AS DOUBLE)
          )
          OR (
            "__cs_b95" >= CAST('9.223372036854776e+18' AS DOUBLE)
          )
        )
      )
      THEN CAST(TRUNC("__cs_b95") AS BIGINT)
    END AS "__cs_k_awareness_v",
    COALESCE(
      CASE
        WHEN (
          "__cs_b96" IS NULL
        ) AND (
          ABS("__cs_b95") = CAST('Infinity' AS DOUBLE)
        )
        THEN 2
      END,
      COALESCE(
        "__cs_b96",
        CASE
          WHEN (
            "__cs_b95" = CAST('NaN' AS DOUBLE)
          )
          OR (
            (
              NOT (
                ABS("__cs_b95") = CAST('Infinity' AS DOUBLE)
              )
            )
            AND (
              (
                "__cs_b95" < CAST('-9.223372036854776e+18' AS DOUBLE)
              )
              OR (
                "__cs_b95" >= CAST('9.223372036854776e+18' AS DOUBLE)
              )
            )
          )
          THEN 1
        END
      )
    ) AS "__cs_k_awareness_f",
    CASE
      WHEN "__cs_b101"
      THEN CAST(2 AS BIGINT)
      ELSE CASE
        WHEN (
          (
            NOT (
              "__cs_b99" = CAST('NaN' AS DOUBLE)
            )
          )
          AND (
            NOT (
              ABS("__cs_b99") = CAST('Infinity' AS DOUBLE)
            )
          )
        )
        AND (
          NOT (
            (
              "__cs_b99" < CAST('-9.223372036854776e+18' AS DOUBLE)
            )
            OR (
              "__cs_b99" >= CAST('9.223372036854776e+18' AS DOUBLE)
            )
          )
        )
        THEN CAST(TRUNC("__cs_b99") AS BIGINT)
      END
    END AS "__cs_k_desire_v",
    COALESCE(
      CASE
        WHEN "__cs_b101"
        THEN NULL
        ELSE CASE
          WHEN (
            "__cs_b100" IS NULL
          ) AND (
            ABS("__cs_b99") = CAST('Infinity' AS DOUBLE)
          )
          THEN 2
        END
      END,
      CASE
        WHEN "__cs_b101"
        THEN NULL
        ELSE COALESCE(
          "__cs_b100",
          CASE
            WHEN (
              "__cs_b99" = CAST('NaN' AS DOUBLE)
            )
            OR (
              (
                NOT (
                  ABS("__cs_b99") = CAST('Infinity' AS DOUBLE)
                )
              )
              AND (
                (
                  "__cs_b99" < CAST('-9.223372036854776e+18' AS DOUBLE)
                )
                OR (
                  "__cs_b99" >= CAST('9.223372036854776e+18' AS DOUBLE)
                )
              )
            )
            THEN 1
          END
        )
      END
    ) AS "__cs_k_desire_f",
    CASE
      WHEN "__cs_b103"
      THEN CAST(5 AS BIGINT)
      ELSE CASE WHEN "__cs_b102" THEN CAST(4 AS BIGINT) ELSE CAST(2 AS BIGINT) END
    END AS "__cs_k_knowledge_v",
    CAST(NULL AS INT) AS "__cs_k_knowledge_f",
    CASE
      WHEN "__cs_b105"
      THEN CASE WHEN "__cs_b104" THEN CAST(5 AS BIGINT) ELSE CAST(4 AS BIGINT) END
      ELSE CAST(2 AS BIGINT)
    END AS "__cs_k_ability_v",
    CAST(NULL AS INT) AS "__cs_k_ability_f",
    CASE
      WHEN "__cs_b114"
      THEN CASE
        WHEN (
          (
            NOT (
              "__cs_b108" = CAST('NaN' AS DOUBLE)
            )
          )
          AND (
            NOT (
              ABS("__cs_b108") = CAST('Infinity' AS DOUBLE)
            )
          )
        )
        AND (
          NOT (
            (
              "__cs_b108" < CAST('-9.223372036854776e+18' AS DOUBLE)
            )
            OR (
              "__cs_b108" >= CAST('9.223372036854776e+18' AS DOUBLE)
            )
          )
        )
        THEN CAST(TRUNC("__cs_b108") AS BIGINT)
      END
      ELSE CASE WHEN "__cs_b112" THEN CAST(4 AS BIGINT) ELSE CAST(2 AS BIGINT) END
    END AS "__cs_k_reinforcement_v",
    COALESCE(
      CASE
        WHEN "__cs_b114"
        THEN CASE
          WHEN (
            "__cs_b109" IS NULL
          ) AND (
            ABS("__cs_b108") = CAST('Infinity' AS DOUBLE)
          )
          THEN 2
        END
        ELSE NULL
      END,
      CASE
        WHEN "__cs_b114"
        THEN COALESCE(
          "__cs_b109",
          CASE
            WHEN (
              "__cs_b108" = CAST('NaN' AS DOUBLE)
            )
            OR (
              (
                NOT (
                  ABS("__cs_b108") = CAST('Infinity' AS DOUBLE)
                )
              )
              AND (
                (
                  "__cs_b108" < CAST('-9.223372036854776e+18' AS DOUBLE)
                )
                OR (
                  "__cs_b108" >= CAST('9.223372036854776e+18' AS DOUBLE)
                )
              )
            )
            THEN 1
          END
        )
        ELSE "__cs_b113"
      END
    ) AS "__cs_k_reinforcement_f"
  FROM "s29"
), "s31" AS (
  SELECT
    "s30".*,
    CASE
      WHEN (
        "__cs_k_awareness_f" IS NULL
      ) AND (
        "__cs_k_awareness_v" BETWEEN 1 AND 5
      )
      THEN "__cs_k_awareness_v"
    END AS "__cs_score_awareness",
    CASE
      WHEN (
        "__cs_k_desire_f" IS NULL
      ) AND (
        "__cs_k_desire_v" BETWEEN 1 AND 5
      )
      THEN "__cs_k_desire_v"
    END AS "__cs_score_desire",
    CASE
      WHEN (
        "__cs_k_knowledge_f" IS NULL
      ) AND (
        "__cs_k_knowledge_v" BETWEEN 1 AND 5
      )
      THEN "__cs_k_knowledge_v"
    END AS "__cs_score_knowledge",
    CASE
      WHEN (
        "__cs_k_ability_f" IS NULL
      ) AND (
        "__cs_k_ability_v" BETWEEN 1 AND 5
      )
      THEN "__cs_k_ability_v"
    END AS "__cs_score_ability",
    CASE
      WHEN (
        "__cs_k_reinforcement_f" IS NULL
      )
      AND (
        "__cs_k_reinforcement_v" BETWEEN 1 AND 5
      )
      THEN "__cs_k_reinforcement_v"
    END AS "__cs_score_reinforcement",
    CASE
      WHEN (
        (
          "__cs_k_awareness_f" IS NULL
        ) AND (
          "__cs_k_awareness_v" BETWEEN 1 AND 5
        )
      )
      AND (
        "__cs_k_awareness_v" <= 3
      )
      THEN 'awareness'
      WHEN (
        (
          "__cs_k_desire_f" IS NULL
        ) AND (
          "__cs_k_desire_v" BETWEEN 1 AND 5
        )
      )
      AND (
        "__cs_k_desire_v" <= 3
      )
      THEN 'desire'
      WHEN (
        (
          "__cs_k_knowledge_f" IS NULL
        ) AND (
          "__cs_k_knowledge_v" BETWEEN 1 AND 5
        )
      )
      AND (
        "__cs_k_knowledge_v" <= 3
      )
      THEN 'knowledge'
      WHEN (
        (
          "__cs_k_ability_f" IS NULL
        ) AND (
          "__cs_k_ability_v" BETWEEN 1 AND 5
        )
      )
      AND (
        "__cs_k_ability_v" <= 3
      )
      THEN 'ability'
      WHEN (
        (
          "__cs_k_reinforcement_f" IS NULL
        )
        AND (
          "__cs_k_reinforcement_v" BETWEEN 1 AND 5
        )
      )
      AND (
        "__cs_k_reinforcement_v" <= 3
      )
      THEN 'reinforcement'
      ELSE ''
    END AS "__cs_barrier"
  FROM "s30"
), "s32" AS (
  SELECT
    "s31".*,
    (
      (
        "__cs_barrier" = 'awareness'
      )
    ) AS "__cs_b115",
    (
      (
        "__cs_tier" <> 'tech_touch'
      )
    ) AS "__cs_b116",
    CASE WHEN "__cs_tier" IS NULL THEN 0 END AS "__cs_b117",
    (
      (
        "__cs_barrier" = 'desire'
      )
    ) AS "__cs_b118",
    (
      (
        "__cs_tier" <> 'tech_touch'
      )
    ) AS "__cs_b119",
    CASE WHEN "__cs_tier" IS NULL THEN 0 END AS "__cs_b120",
    (
      (
        "__cs_barrier" = 'knowledge'
      )
    ) AS "__cs_b121",
    (
      (
        "__cs_tier" <> 'tech_touch'
      )
    ) AS "__cs_b122",
    CASE WHEN "__cs_tier" IS NULL THEN 0 END AS "__cs_b123",
    (
      (
        "__cs_barrier" = 'ability'
      )
    ) AS "__cs_b124",
    (
      (
        "__cs_tier" <> 'tech_touch'
      )
    ) AS "__cs_b125",
    CASE WHEN "__cs_tier" IS NULL THEN 0 END AS "__cs_b126",
    (
      (
        "__cs_barrier" = 'reinforcement'
      )
    ) AS "__cs_b127",
    (
      (
        "__cs_tier" <> 'tech_touch'
      )
    ) AS "__cs_b128",
    CASE WHEN "__cs_tier" IS NULL THEN 0 END AS "__cs_b129",
    (
      (
        "__cs_tier" <> 'tech_touch'
      )
    ) AS "__cs_b130",
    (
      (
        "__cs_g8_f" IS NULL
      ) AND COALESCE("__cs_g8_v", FALSE)
    ) AS "__cs_b131",
    CASE WHEN "__cs_tier" IS NULL THEN 0 END AS "__cs_b132",
    (
      (
        "decisions_pending" >= CAST(3 AS BIGINT)
      )
    ) AS "__cs_b134",
    (
      (
        "__cs_tier" <> 'tech_touch'
      )
    ) AS "__cs_b136",
    (
      (
        "__cs_g4_f" IS NULL
      ) AND COALESCE("__cs_g4_v", FALSE)
    ) AS "__cs_b137",
    CASE WHEN "__cs_tier" IS NULL THEN 0 END AS "__cs_b138",
    (
      (
        "__cs_g0_f" IS NULL
      ) AND COALESCE("__cs_g0_v", FALSE)
    ) AS "__cs_b140"
  FROM "s31"
), "s33" AS (
  SELECT
    "s32".*,
    (
      COALESCE(
        NOT (
          (
            (
              "__cs_b132" IS NULL
            ) AND (
              NOT "__cs_b130"
            )
          )
          OR (
            TRUE AND (
              NOT "__cs_b131"
            )
          )
        ),
        FALSE
      )
    ) AS "__cs_b133",
    CASE
      WHEN (
        (
          (
            "__cs_b132" IS NULL
          ) AND (
            NOT "__cs_b130"
          )
        )
        OR (
          TRUE AND (
            NOT "__cs_b131"
          )
        )
      )
      THEN NULL
      WHEN "__cs_b132" IS NULL
      THEN NULL
      WHEN TRUE
      THEN "__cs_b132"
      ELSE 4
    END AS "__cs_b135",
    (
      COALESCE(
        NOT (
          (
            (
              "__cs_b138" IS NULL
            ) AND (
              NOT "__cs_b136"
            )
          )
          OR (
            TRUE AND (
              NOT "__cs_b137"
            )
          )
        ),
        FALSE
      )
    ) AS "__cs_b139",
    CASE
      WHEN (
        (
          (
            "__cs_b138" IS NULL
          ) AND (
            NOT "__cs_b136"
          )
        )
        OR (
          TRUE AND (
            NOT "__cs_b137"
          )
        )
      )
      THEN NULL
      WHEN "__cs_b138" IS NULL
      THEN NULL
      WHEN TRUE
      THEN "__cs_b138"
      ELSE 4
    END AS "__cs_b141"
  FROM "s32"
), "s34" AS (
  SELECT
    "s33".*,
    COALESCE(
      NOT (
        (
          TRUE AND (
            NOT "__cs_b115"
          )
        )
        OR (
          (
            "__cs_b117" IS NULL
          ) AND (
            NOT "__cs_b116"
          )
        )
      ),
      FALSE
    ) AS "__cs_p0_v",
    CASE
      WHEN (
        (
          TRUE AND (
            NOT "__cs_b115"
          )
        )
        OR (
          (
            "__cs_b117" IS NULL
          ) AND (
            NOT "__cs_b116"
          )
        )
      )
      THEN NULL
      WHEN TRUE
      THEN "__cs_b117"
      WHEN "__cs_b117" IS NULL
      THEN NULL
      ELSE 4
    END AS "__cs_p0_f",
    COALESCE(
      NOT (
        (
          TRUE AND (
            NOT "__cs_b118"
          )
        )
        OR (
          (
            "__cs_b120" IS NULL
          ) AND (
            NOT "__cs_b119"
          )
        )
      ),
      FALSE
    ) AS "__cs_p1_v",
    CASE
      WHEN (
        (
          TRUE AND (
            NOT "__cs_b118"
          )
        )
        OR (
          (
            "__cs_b120" IS NULL
          ) AND (
            NOT "__cs_b119"
          )
        )
      )
      THEN NULL
      WHEN TRUE
      THEN "__cs_b120"
      WHEN "__cs_b120" IS NULL
      THEN NULL
      ELSE 4
    END AS "__cs_p1_f",
    COALESCE(
      NOT (
        (
          TRUE AND (
            NOT "__cs_b121"
          )
        )
        OR (
          (
            "__cs_b123" IS NULL
          ) AND (
            NOT "__cs_b122"
          )
        )
      ),
      FALSE
    ) AS "__cs_p2_v",
    CASE
      WHEN (
        (
          TRUE AND (
            NOT "__cs_b121"
          )
        )
        OR (
          (
            "__cs_b123" IS NULL
          ) AND (
            NOT "__cs_b122"
          )
        )
      )
      THEN NULL
      WHEN TRUE
      THEN "__cs_b123"
      WHEN "__cs_b123" IS NULL
      THEN NULL
      ELSE 4
    END AS "__cs_p2_f",
    COALESCE(
      NOT (
        (
          TRUE AND (
            NOT "__cs_b124"
          )
        )
        OR (
          (
            "__cs_b126" IS NULL
          ) AND (
            NOT "__cs_b125"
          )
        )
      ),
      FALSE
    ) AS "__cs_p3_v",
    CASE
      WHEN (
        (
          TRUE AND (
            NOT "__cs_b124"
          )
        )
        OR (
          (
            "__cs_b126" IS NULL
          ) AND (
            NOT "__cs_b125"
          )
        )
      )
      THEN NULL
      WHEN TRUE
      THEN "__cs_b126"
      WHEN "__cs_b126" IS NULL
      THEN NULL
      ELSE 4
    END AS "__cs_p3_f",
    COALESCE(
      NOT (
        (
          TRUE AND (
            NOT "__cs_b127"
          )
        )
        OR (
          (
            "__cs_b129" IS NULL
          ) AND (
            NOT "__cs_b128"
          )
        )
      ),
      FALSE
    ) AS "__cs_p4_v",
    CASE
      WHEN (
        (
          TRUE AND (
            NOT "__cs_b127"
          )
        )
        OR (
          (
            "__cs_b129" IS NULL
          ) AND (
            NOT "__cs_b128"
          )
        )
      )
      THEN NULL
      WHEN TRUE
      THEN "__cs_b129"
      WHEN "__cs_b129" IS NULL
      THEN NULL
      ELSE 4
    END AS "__cs_p4_f",
    COALESCE(
      NOT (
        (
          (
            "__cs_b135" IS NULL
          ) AND (
            NOT "__cs_b133"
          )
        )
        OR (
          TRUE AND (
            NOT "__cs_b134"
          )
        )
      ),
      FALSE
    ) AS "__cs_p5_v",
    CASE
      WHEN (
        (
          (
            "__cs_b135" IS NULL
          ) AND (
            NOT "__cs_b133"
          )
        )
        OR (
          TRUE AND (
            NOT "__cs_b134"
          )
        )
      )
      THEN NULL
      WHEN "__cs_b135" IS NULL
      THEN NULL
      WHEN TRUE
      THEN "__cs_b135"
      ELSE 4
    END AS "__cs_p5_f",
    (
      (
        NOT (
          COALESCE(ARRAY_CONTAINS(CAST('internal' AS VARIANT), "tags"), FALSE)
        )
      )
      AND (
        (
          (
            (
              "__cs_g1_f" IS NULL
            ) AND COALESCE("__cs_g1_v", FALSE)
          )
          OR (
            (
              (
                (
                  "__cs_g0_f" IS NULL
                ) AND COALESCE("__cs_g0_v", FALSE)
              )
              AND (
                (
                  "__cs_g3_f" IS NULL
                ) AND COALESCE("__cs_g3_v", FALSE)
              )
            )
          )
        )
      )
    ) AS "__cs_p6_v",
    CAST(NULL AS INT) AS "__cs_p6_f",
    (
      (
        NOT (
          COALESCE(ARRAY_CONTAINS(CAST('internal' AS VARIANT), "tags"), FALSE)
        )
      )
      AND (
        (
          "__cs_g6_f" IS NULL
        ) AND COALESCE("__cs_g6_v", FALSE)
      )
    ) AS "__cs_p7_v",
    CAST(NULL AS INT) AS "__cs_p7_f",
    (
      (
        NOT (
          COALESCE(ARRAY_CONTAINS(CAST('internal' AS VARIANT), "tags"), FALSE)
        )
      )
      AND (
        (
          "__cs_g7_f" IS NULL
        ) AND COALESCE("__cs_g7_v", FALSE)
      )
    ) AS "__cs_p8_v",
    CAST(NULL AS INT) AS "__cs_p8_f",
    COALESCE(
      NOT (
        (
          (
            "__cs_b141" IS NULL
          ) AND (
            NOT "__cs_b139"
          )
        )
        OR (
          TRUE AND (
            NOT "__cs_b140"
          )
        )
      ),
      FALSE
    ) AS "__cs_p9_v",
    CASE
      WHEN (
        (
          (
            "__cs_b141" IS NULL
          ) AND (
            NOT "__cs_b139"
          )
        )
        OR (
          TRUE AND (
            NOT "__cs_b140"
          )
        )
      )
      THEN NULL
      WHEN "__cs_b141" IS NULL
      THEN NULL
      WHEN TRUE
      THEN "__cs_b141"
      ELSE 4
    END AS "__cs_p9_f"
  FROM "s33"
)
SELECT
  "__cs_key" AS "account",
  "__cs_score" AS "score",
  "__cs_band" AS "band",
  "__cs_tier" AS "tier",
  ARRAY_COMPACT(
    [
      CASE
        WHEN (
          "__cs_g0_f" IS NULL
        ) AND COALESCE("__cs_g0_v", FALSE)
        THEN 'renewal_window'
      END,
      CASE
        WHEN (
          "__cs_g1_f" IS NULL
        ) AND COALESCE("__cs_g1_v", FALSE)
        THEN 'inactive_near_renewal'
      END,
      CASE
        WHEN (
          "__cs_g2_f" IS NULL
        ) AND COALESCE("__cs_g2_v", FALSE)
        THEN 'new_customer'
      END,
      CASE
        WHEN (
          "__cs_g3_f" IS NULL
        ) AND COALESCE("__cs_g3_v", FALSE)
        THEN 'low_engagement'
      END,
      CASE
        WHEN (
          "__cs_g4_f" IS NULL
        ) AND COALESCE("__cs_g4_v", FALSE)
        THEN 'at_risk'
      END,
      CASE
        WHEN (
          "__cs_g5_f" IS NULL
        ) AND COALESCE("__cs_g5_v", FALSE)
        THEN 'expansion_candidate'
      END,
      CASE
        WHEN (
          "__cs_g6_f" IS NULL
        ) AND COALESCE("__cs_g6_v", FALSE)
        THEN 'negative_support'
      END,
      CASE
        WHEN (
          "__cs_g7_f" IS NULL
        ) AND COALESCE("__cs_g7_v", FALSE)
        THEN 'power_user_quiet'
      END,
      CASE
        WHEN (
          "__cs_g8_f" IS NULL
        ) AND COALESCE("__cs_g8_v", FALSE)
        THEN 'no_active_sponsor'
      END
    ]
  ) AS "segments",
  "__cs_barrier" AS "barrier",
  ARRAY_COMPACT(
    [
      CASE WHEN "__cs_k_awareness_f" = 0 THEN 'awareness' END,
      CASE WHEN "__cs_k_desire_f" = 0 THEN 'desire' END,
      CASE WHEN "__cs_k_knowledge_f" = 0 THEN 'knowledge' END,
      CASE WHEN "__cs_k_ability_f" = 0 THEN 'ability' END,
      CASE WHEN "__cs_k_reinforcement_f" = 0 THEN 'reinforcement' END
    ]
  ) AS "adkar_unknown",
  ARRAY_COMPACT(
    [
      CASE
        WHEN (
          "__cs_p0_f" IS NULL
        ) AND COALESCE("__cs_p0_v", FALSE)
        THEN 'awareness_sponsor_briefing'
      END,
      CASE
        WHEN (
          "__cs_p1_f" IS NULL
        ) AND COALESCE("__cs_p1_v", FALSE)
        THEN 'desire_benefits_and_champions'
      END,
      CASE
        WHEN (
          "__cs_p2_f" IS NULL
        ) AND COALESCE("__cs_p2_v", FALSE)
        THEN 'knowledge_role_based_training'
      END,
      CASE
        WHEN (
          "__cs_p3_f" IS NULL
        ) AND COALESCE("__cs_p3_v", FALSE)
        THEN 'ability_hands_on_coaching'
      END,
      CASE
        WHEN (
          "__cs_p4_f" IS NULL
        ) AND COALESCE("__cs_p4_v", FALSE)
        THEN 'reinforcement_recognition'
      END,
      CASE
        WHEN (
          "__cs_p5_f" IS NULL
        ) AND COALESCE("__cs_p5_v", FALSE)
        THEN 'sponsorship_gap'
      END,
      CASE
        WHEN (
          "__cs_p6_f" IS NULL
        ) AND COALESCE("__cs_p6_v", FALSE)
        THEN 'low_engagement_near_renewal'
      END,
      CASE
        WHEN (
          "__cs_p7_f" IS NULL
        ) AND COALESCE("__cs_p7_v", FALSE)
        THEN 'negative_support_sentiment'
      END,
      CASE
        WHEN (
          "__cs_p8_f" IS NULL
        ) AND COALESCE("__cs_p8_v", FALSE)
        THEN 'power_user_quiet'
      END,
      CASE
        WHEN (
          "__cs_p9_f" IS NULL
        ) AND COALESCE("__cs_p9_v", FALSE)
        THEN 'red_health_renewal'
      END
    ]
  ) AS "playbooks",
  ARRAY_COMPACT(
    [
      CASE
        WHEN "__cs_loser0" AND (
          "__cs_rank0" = 0
        )
        THEN "__cs_text0"
        WHEN "__cs_loser1" AND (
          "__cs_rank1" = 0
        )
        THEN "__cs_text1"
        WHEN "__cs_loser2" AND (
          "__cs_rank2" = 0
        )
        THEN "__cs_text2"
        WHEN "__cs_loser3" AND (
          "__cs_rank3" = 0
        )
        THEN "__cs_text3"
        WHEN "__cs_loser4" AND (
          "__cs_rank4" = 0
        )
        THEN "__cs_text4"
        WHEN "__cs_loser5" AND (
          "__cs_rank5" = 0
        )
        THEN "__cs_text5"
      END,
      CASE
        WHEN "__cs_loser0" AND (
          "__cs_rank0" = 1
        )
        THEN "__cs_text0"
        WHEN "__cs_loser1" AND (
          "__cs_rank1" = 1
        )
        THEN "__cs_text1"
        WHEN "__cs_loser2" AND (
          "__cs_rank2" = 1
        )
        THEN "__cs_text2"
        WHEN "__cs_loser3" AND (
          "__cs_rank3" = 1
        )
        THEN "__cs_text3"
        WHEN "__cs_loser4" AND (
          "__cs_rank4" = 1
        )
        THEN "__cs_text4"
        WHEN "__cs_loser5" AND (
          "__cs_rank5" = 1
        )
        THEN "__cs_text5"
      END,
      CASE
        WHEN "__cs_loser0" AND (
          "__cs_rank0" = 2
        )
        THEN "__cs_text0"
        WHEN "__cs_loser1" AND (
          "__cs_rank1" = 2
        )
        THEN "__cs_text1"
        WHEN "__cs_loser2" AND (
          "__cs_rank2" = 2
        )
        THEN "__cs_text2"
        WHEN "__cs_loser3" AND (
          "__cs_rank3" = 2
        )
        THEN "__cs_text3"
        WHEN "__cs_loser4" AND (
          "__cs_rank4" = 2
        )
        THEN "__cs_text4"
        WHEN "__cs_loser5" AND (
          "__cs_rank5" = 2
        )
        THEN "__cs_text5"
      END,
      CASE
        WHEN "__cs_loser0" AND (
          "__cs_rank0" = 3
        )
        THEN "__cs_text0"
        WHEN "__cs_loser1" AND (
          "__cs_rank1" = 3
        )
        THEN "__cs_text1"
        WHEN "__cs_loser2" AND (
          "__cs_rank2" = 3
        )
        THEN "__cs_text2"
        WHEN "__cs_loser3" AND (
          "__cs_rank3" = 3
        )
        THEN "__cs_text3"
        WHEN "__cs_loser4" AND (
          "__cs_rank4" = 3
        )
        THEN "__cs_text4"
        WHEN "__cs_loser5" AND (
          "__cs_rank5" = 3
        )
        THEN "__cs_text5"
      END,
      CASE
        WHEN "__cs_loser0" AND (
          "__cs_rank0" = 4
        )
        THEN "__cs_text0"
        WHEN "__cs_loser1" AND (
          "__cs_rank1" = 4
        )
        THEN "__cs_text1"
        WHEN "__cs_loser2" AND (
          "__cs_rank2" = 4
        )
        THEN "__cs_text2"
        WHEN "__cs_loser3" AND (
          "__cs_rank3" = 4
        )
        THEN "__cs_text3"
        WHEN "__cs_loser4" AND (
          "__cs_rank4" = 4
        )
        THEN "__cs_text4"
        WHEN "__cs_loser5" AND (
          "__cs_rank5" = 4
        )
        THEN "__cs_text5"
      END,
      CASE
        WHEN "__cs_loser0" AND (
          "__cs_rank0" = 5
        )
        THEN "__cs_text0"
        WHEN "__cs_loser1" AND (
          "__cs_rank1" = 5
        )
        THEN "__cs_text1"
        WHEN "__cs_loser2" AND (
          "__cs_rank2" = 5
        )
        THEN "__cs_text2"
        WHEN "__cs_loser3" AND (
          "__cs_rank3" = 5
        )
        THEN "__cs_text3"
        WHEN "__cs_loser4" AND (
          "__cs_rank4" = 5
        )
        THEN "__cs_text4"
        WHEN "__cs_loser5" AND (
          "__cs_rank5" = 5
        )
        THEN "__cs_text5"
      END
    ]
  ) AS "drivers",
  ARRAY_COMPACT(
    [
      CASE COALESCE(
          CASE WHEN COALESCE("__cs_a0w_f" > 0, FALSE) THEN "__cs_a0w_f" END,
          CASE
            WHEN (
              (
                "__cs_a0w_f" IS NULL
              ) AND COALESCE("__cs_a0w_v", FALSE)
            )
            AND COALESCE("__cs_a0o_f" > 0, FALSE)
            THEN "__cs_a0o_f"
          END
        )
        WHEN 1
        THEN 'aggregate:arr_p80: int() of this value is out of range'
        WHEN 2
        THEN 'aggregate:arr_p80: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'aggregate:arr_p80: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'aggregate:arr_p80: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE COALESCE(
          CASE WHEN COALESCE("__cs_a1w_f" > 0, FALSE) THEN "__cs_a1w_f" END,
          CASE
            WHEN (
              (
                "__cs_a1w_f" IS NULL
              ) AND COALESCE("__cs_a1w_v", FALSE)
            )
            AND COALESCE("__cs_a1o_f" > 0, FALSE)
            THEN "__cs_a1o_f"
          END
        )
        WHEN 1
        THEN 'aggregate:active_users_p90: int() of this value is out of range'
        WHEN 2
        THEN 'aggregate:active_users_p90: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'aggregate:active_users_p90: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'aggregate:active_users_p90: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      COALESCE(
        CASE CASE WHEN COALESCE("__cs_m0_f" > 0, FALSE) THEN "__cs_m0_f" END
          WHEN 1
          THEN 'measure:seat_adoption: int() of this value is out of range'
          WHEN 2
          THEN 'measure:seat_adoption: cannot convert an infinite double to an integer (a division by zero?)'
          WHEN 3
          THEN 'measure:seat_adoption: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
          WHEN 4
          THEN 'measure:seat_adoption: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        END,
        'measure:seat_adoption: ' || CASE
          WHEN (
            "__cs_m0_f" IS NULL
          )
          AND (
            NOT (
              (
                NOT (
                  CAST("__cs_m0_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
                )
              )
              AND (
                ABS(CAST("__cs_m0_v" AS DOUBLE)) <> CAST('inf' AS DOUBLE)
              )
            )
          )
          THEN CASE
            WHEN CAST("__cs_m0_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
            THEN 'value is nan (a division by zero?); guard the divisor'
            WHEN CAST("__cs_m0_v" AS DOUBLE) > CAST('0.0' AS DOUBLE)
            THEN 'value is inf (a division by zero?); guard the divisor'
            ELSE 'value is -inf (a division by zero?); guard the divisor'
          END
        END
      ),
      COALESCE(
        CASE CASE WHEN COALESCE("__cs_m1_f" > 0, FALSE) THEN "__cs_m1_f" END
          WHEN 1
          THEN 'measure:engagement_points: int() of this value is out of range'
          WHEN 2
          THEN 'measure:engagement_points: cannot convert an infinite double to an integer (a division by zero?)'
          WHEN 3
          THEN 'measure:engagement_points: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
          WHEN 4
          THEN 'measure:engagement_points: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        END,
        'measure:engagement_points: ' || CASE
          WHEN (
            "__cs_m1_f" IS NULL
          )
          AND (
            NOT (
              (
                NOT (
                  CAST("__cs_m1_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
                )
              )
              AND (
                ABS(CAST("__cs_m1_v" AS DOUBLE)) <> CAST('inf' AS DOUBLE)
              )
            )
          )
          THEN CASE
            WHEN CAST("__cs_m1_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
            THEN 'value is nan (a division by zero?); guard the divisor'
            WHEN CAST("__cs_m1_v" AS DOUBLE) > CAST('0.0' AS DOUBLE)
            THEN 'value is inf (a division by zero?); guard the divisor'
            ELSE 'value is -inf (a division by zero?); guard the divisor'
          END
        END
      ),
      COALESCE(
        CASE CASE WHEN COALESCE("__cs_m2_f" > 0, FALSE) THEN "__cs_m2_f" END
          WHEN 1
          THEN 'measure:user_trend: int() of this value is out of range'
          WHEN 2
          THEN 'measure:user_trend: cannot convert an infinite double to an integer (a division by zero?)'
          WHEN 3
          THEN 'measure:user_trend: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
          WHEN 4
          THEN 'measure:user_trend: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        END,
        'measure:user_trend: ' || CASE
          WHEN (
            "__cs_m2_f" IS NULL
          )
          AND (
            NOT (
              (
                NOT (
                  CAST("__cs_m2_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
                )
              )
              AND (
                ABS(CAST("__cs_m2_v" AS DOUBLE)) <> CAST('inf' AS DOUBLE)
              )
            )
          )
          THEN CASE
            WHEN CAST("__cs_m2_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
            THEN 'value is nan (a division by zero?); guard the divisor'
            WHEN CAST("__cs_m2_v" AS DOUBLE) > CAST('0.0' AS DOUBLE)
            THEN 'value is inf (a division by zero?); guard the divisor'
            ELSE 'value is -inf (a division by zero?); guard the divisor'
          END
        END
      ),
      COALESCE(
        CASE CASE WHEN COALESCE("__cs_m3_f" > 0, FALSE) THEN "__cs_m3_f" END
          WHEN 1
          THEN 'measure:export_trend: int() of this value is out of range'
          WHEN 2
          THEN 'measure:export_trend: cannot convert an infinite double to an integer (a division by zero?)'
          WHEN 3
          THEN 'measure:export_trend: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
          WHEN 4
          THEN 'measure:export_trend: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        END,
        'measure:export_trend: ' || CASE
          WHEN (
            "__cs_m3_f" IS NULL
          )
          AND (
            NOT (
              (
                NOT (
                  CAST("__cs_m3_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
                )
              )
              AND (
                ABS(CAST("__cs_m3_v" AS DOUBLE)) <> CAST('inf' AS DOUBLE)
              )
            )
          )
          THEN CASE
            WHEN CAST("__cs_m3_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
            THEN 'value is nan (a division by zero?); guard the divisor'
            WHEN CAST("__cs_m3_v" AS DOUBLE) > CAST('0.0' AS DOUBLE)
            THEN 'value is inf (a division by zero?); guard the divisor'
            ELSE 'value is -inf (a division by zero?); guard the divisor'
          END
        END
      ),
      COALESCE(
        CASE CASE WHEN COALESCE("__cs_m4_f" > 0, FALSE) THEN "__cs_m4_f" END
          WHEN 1
          THEN 'measure:admin_recency: int() of this value is out of range'
          WHEN 2
          THEN 'measure:admin_recency: cannot convert an infinite double to an integer (a division by zero?)'
          WHEN 3
          THEN 'measure:admin_recency: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
          WHEN 4
          THEN 'measure:admin_recency: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        END,
        'measure:admin_recency: ' || CASE
          WHEN (
            "__cs_m4_f" IS NULL
          )
          AND (
            NOT (
              (
                NOT (
                  CAST("__cs_m4_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
                )
              )
              AND (
                ABS(CAST("__cs_m4_v" AS DOUBLE)) <> CAST('inf' AS DOUBLE)
              )
            )
          )
          THEN CASE
            WHEN CAST("__cs_m4_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
            THEN 'value is nan (a division by zero?); guard the divisor'
            WHEN CAST("__cs_m4_v" AS DOUBLE) > CAST('0.0' AS DOUBLE)
            THEN 'value is inf (a division by zero?); guard the divisor'
            ELSE 'value is -inf (a division by zero?); guard the divisor'
          END
        END
      ),
      COALESCE(
        CASE CASE WHEN COALESCE("__cs_m5_f" > 0, FALSE) THEN "__cs_m5_f" END
          WHEN 1
          THEN 'measure:support_sentiment: int() of this value is out of range'
          WHEN 2
          THEN 'measure:support_sentiment: cannot convert an infinite double to an integer (a division by zero?)'
          WHEN 3
          THEN 'measure:support_sentiment: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
          WHEN 4
          THEN 'measure:support_sentiment: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        END,
        'measure:support_sentiment: ' || CASE
          WHEN (
            "__cs_m5_f" IS NULL
          )
          AND (
            NOT (
              (
                NOT (
                  CAST("__cs_m5_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
                )
              )
              AND (
                ABS(CAST("__cs_m5_v" AS DOUBLE)) <> CAST('inf' AS DOUBLE)
              )
            )
          )
          THEN CASE
            WHEN CAST("__cs_m5_v" AS DOUBLE) = CAST('NaN' AS DOUBLE)
            THEN 'value is nan (a division by zero?); guard the divisor'
            WHEN CAST("__cs_m5_v" AS DOUBLE) > CAST('0.0' AS DOUBLE)
            THEN 'value is inf (a division by zero?); guard the divisor'
            ELSE 'value is -inf (a division by zero?); guard the divisor'
          END
        END
      ),
      CASE CASE
          WHEN "__cs_loser0"
          THEN CASE WHEN COALESCE("__cs_x0_1_f" > 0, FALSE) THEN "__cs_x0_1_f" END
        END
        WHEN 1
        THEN 'measure:seat_adoption: int() of this value is out of range'
        WHEN 2
        THEN 'measure:seat_adoption: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'measure:seat_adoption: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'measure:seat_adoption: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE
          WHEN "__cs_loser1"
          THEN CASE WHEN COALESCE("__cs_x1_1_f" > 0, FALSE) THEN "__cs_x1_1_f" END
        END
        WHEN 1
        THEN 'measure:engagement_points: int() of this value is out of range'
        WHEN 2
        THEN 'measure:engagement_points: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'measure:engagement_points: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'measure:engagement_points: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE
          WHEN "__cs_loser2"
          THEN COALESCE(
            CASE WHEN COALESCE("__cs_x2_1_f" > 0, FALSE) THEN "__cs_x2_1_f" END,
            CASE WHEN COALESCE("__cs_x2_3_f" > 0, FALSE) THEN "__cs_x2_3_f" END
          )
        END
        WHEN 1
        THEN 'measure:user_trend: int() of this value is out of range'
        WHEN 2
        THEN 'measure:user_trend: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'measure:user_trend: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'measure:user_trend: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE
          WHEN "__cs_loser3"
          THEN COALESCE(
            CASE WHEN COALESCE("__cs_x3_1_f" > 0, FALSE) THEN "__cs_x3_1_f" END,
            CASE WHEN COALESCE("__cs_x3_3_f" > 0, FALSE) THEN "__cs_x3_3_f" END
          )
        END
        WHEN 1
        THEN 'measure:export_trend: int() of this value is out of range'
        WHEN 2
        THEN 'measure:export_trend: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'measure:export_trend: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'measure:export_trend: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE
          WHEN "__cs_loser4"
          THEN CASE WHEN COALESCE("__cs_x4_1_f" > 0, FALSE) THEN "__cs_x4_1_f" END
        END
        WHEN 1
        THEN 'measure:admin_recency: int() of this value is out of range'
        WHEN 2
        THEN 'measure:admin_recency: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'measure:admin_recency: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'measure:admin_recency: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE
          WHEN "__cs_loser5"
          THEN COALESCE(
            CASE WHEN COALESCE("__cs_x5_1_f" > 0, FALSE) THEN "__cs_x5_1_f" END,
            CASE WHEN COALESCE("__cs_x5_3_f" > 0, FALSE) THEN "__cs_x5_3_f" END
          )
        END
        WHEN 1
        THEN 'measure:support_sentiment: int() of this value is out of range'
        WHEN 2
        THEN 'measure:support_sentiment: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'measure:support_sentiment: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'measure:support_sentiment: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE WHEN COALESCE("__cs_g0_f" > 0, FALSE) THEN "__cs_g0_f" END
        WHEN 1
        THEN 'segment:renewal_window: int() of this value is out of range'
        WHEN 2
        THEN 'segment:renewal_window: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'segment:renewal_window: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'segment:renewal_window: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE WHEN COALESCE("__cs_g1_f" > 0, FALSE) THEN "__cs_g1_f" END
        WHEN 1
        THEN 'segment:inactive_near_renewal: int() of this value is out of range'
        WHEN 2
        THEN 'segment:inactive_near_renewal: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'segment:inactive_near_renewal: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'segment:inactive_near_renewal: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE WHEN COALESCE("__cs_g2_f" > 0, FALSE) THEN "__cs_g2_f" END
        WHEN 1
        THEN 'segment:new_customer: int() of this value is out of range'
        WHEN 2
        THEN 'segment:new_customer: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'segment:new_customer: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'segment:new_customer: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE WHEN COALESCE("__cs_g3_f" > 0, FALSE) THEN "__cs_g3_f" END
        WHEN 1
        THEN 'segment:low_engagement: int() of this value is out of range'
        WHEN 2
        THEN 'segment:low_engagement: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'segment:low_engagement: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'segment:low_engagement: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE WHEN COALESCE("__cs_g4_f" > 0, FALSE) THEN "__cs_g4_f" END
        WHEN 1
        THEN 'segment:at_risk: int() of this value is out of range'
        WHEN 2
        THEN 'segment:at_risk: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'segment:at_risk: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'segment:at_risk: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE WHEN COALESCE("__cs_g5_f" > 0, FALSE) THEN "__cs_g5_f" END
        WHEN 1
        THEN 'segment:expansion_candidate: int() of this value is out of range'
        WHEN 2
        THEN 'segment:expansion_candidate: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'segment:expansion_candidate: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'segment:expansion_candidate: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE WHEN COALESCE("__cs_g6_f" > 0, FALSE) THEN "__cs_g6_f" END
        WHEN 1
        THEN 'segment:negative_support: int() of this value is out of range'
        WHEN 2
        THEN 'segment:negative_support: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'segment:negative_support: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'segment:negative_support: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE WHEN COALESCE("__cs_g7_f" > 0, FALSE) THEN "__cs_g7_f" END
        WHEN 1
        THEN 'segment:power_user_quiet: int() of this value is out of range'
        WHEN 2
        THEN 'segment:power_user_quiet: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'segment:power_user_quiet: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'segment:power_user_quiet: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE WHEN COALESCE("__cs_g8_f" > 0, FALSE) THEN "__cs_g8_f" END
        WHEN 1
        THEN 'segment:no_active_sponsor: int() of this value is out of range'
        WHEN 2
        THEN 'segment:no_active_sponsor: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'segment:no_active_sponsor: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'segment:no_active_sponsor: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE WHEN TRUE AND COALESCE("__cs_t0_f" > 0, FALSE) THEN "__cs_t0_f" END
        WHEN 1
        THEN 'tier:high_touch: int() of this value is out of range'
        WHEN 2
        THEN 'tier:high_touch: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'tier:high_touch: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'tier:high_touch: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE
          WHEN (
            (
              TRUE
              AND (
                NOT (
                  (
                    "__cs_t0_f" IS NULL
                  ) AND COALESCE("__cs_t0_v", FALSE)
                )
              )
            )
            AND (
              NOT COALESCE("__cs_t0_f" > 0, FALSE)
            )
          )
          AND COALESCE("__cs_t1_f" > 0, FALSE)
          THEN "__cs_t1_f"
        END
        WHEN 1
        THEN 'tier:pooled: int() of this value is out of range'
        WHEN 2
        THEN 'tier:pooled: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'tier:pooled: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'tier:pooled: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE
          WHEN (
            (
              (
                (
                  TRUE
                  AND (
                    NOT (
                      (
                        "__cs_t0_f" IS NULL
                      ) AND COALESCE("__cs_t0_v", FALSE)
                    )
                  )
                )
                AND (
                  NOT COALESCE("__cs_t0_f" > 0, FALSE)
                )
              )
              AND (
                NOT (
                  (
                    "__cs_t1_f" IS NULL
                  ) AND COALESCE("__cs_t1_v", FALSE)
                )
              )
            )
            AND (
              NOT COALESCE("__cs_t1_f" > 0, FALSE)
            )
          )
          AND COALESCE("__cs_t2_f" > 0, FALSE)
          THEN "__cs_t2_f"
        END
        WHEN 1
        THEN 'tier:tech_touch: int() of this value is out of range'
        WHEN 2
        THEN 'tier:tech_touch: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'tier:tech_touch: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'tier:tech_touch: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      'tier: ' || CASE
        WHEN (
          (
            (
              (
                (
                  TRUE
                  AND (
                    NOT (
                      (
                        "__cs_t0_f" IS NULL
                      ) AND COALESCE("__cs_t0_v", FALSE)
                    )
                  )
                )
                AND (
                  NOT COALESCE("__cs_t0_f" > 0, FALSE)
                )
              )
              AND (
                NOT (
                  (
                    "__cs_t1_f" IS NULL
                  ) AND COALESCE("__cs_t1_v", FALSE)
                )
              )
            )
            AND (
              NOT COALESCE("__cs_t1_f" > 0, FALSE)
            )
          )
          AND (
            NOT (
              (
                "__cs_t2_f" IS NULL
              ) AND COALESCE("__cs_t2_v", FALSE)
            )
          )
        )
        AND (
          NOT COALESCE("__cs_t2_f" > 0, FALSE)
        )
        THEN 'no tier matched (tried high_touch, pooled, tech_touch); add a catch-all tier with when = "true"'
      END,
      COALESCE(
        CASE CASE WHEN COALESCE("__cs_k_awareness_f" > 0, FALSE) THEN "__cs_k_awareness_f" END
          WHEN 1
          THEN 'adkar:awareness: int() of this value is out of range'
          WHEN 2
          THEN 'adkar:awareness: cannot convert an infinite double to an integer (a division by zero?)'
          WHEN 3
          THEN 'adkar:awareness: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
          WHEN 4
          THEN 'adkar:awareness: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        END,
        'adkar:awareness: ' || CASE
          WHEN (
            "__cs_k_awareness_f" IS NULL
          )
          AND (
            NOT (
              "__cs_k_awareness_v" BETWEEN 1 AND 5
            )
          )
          THEN (
            'score ' || CAST("__cs_k_awareness_v" AS VARCHAR)
          ) || ' is outside 1..5'
        END
      ),
      COALESCE(
        CASE CASE WHEN COALESCE("__cs_k_desire_f" > 0, FALSE) THEN "__cs_k_desire_f" END
          WHEN 1
          THEN 'adkar:desire: int() of this value is out of range'
          WHEN 2
          THEN 'adkar:desire: cannot convert an infinite double to an integer (a division by zero?)'
          WHEN 3
          THEN 'adkar:desire: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
          WHEN 4
          THEN 'adkar:desire: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        END,
        'adkar:desire: ' || CASE
          WHEN (
            "__cs_k_desire_f" IS NULL
          )
          AND (
            NOT (
              "__cs_k_desire_v" BETWEEN 1 AND 5
            )
          )
          THEN (
            'score ' || CAST("__cs_k_desire_v" AS VARCHAR)
          ) || ' is outside 1..5'
        END
      ),
      COALESCE(
        CASE CASE WHEN COALESCE("__cs_k_knowledge_f" > 0, FALSE) THEN "__cs_k_knowledge_f" END
          WHEN 1
          THEN 'adkar:knowledge: int() of this value is out of range'
          WHEN 2
          THEN 'adkar:knowledge: cannot convert an infinite double to an integer (a division by zero?)'
          WHEN 3
          THEN 'adkar:knowledge: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
          WHEN 4
          THEN 'adkar:knowledge: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        END,
        'adkar:knowledge: ' || CASE
          WHEN (
            "__cs_k_knowledge_f" IS NULL
          )
          AND (
            NOT (
              "__cs_k_knowledge_v" BETWEEN 1 AND 5
            )
          )
          THEN (
            'score ' || CAST("__cs_k_knowledge_v" AS VARCHAR)
          ) || ' is outside 1..5'
        END
      ),
      COALESCE(
        CASE CASE WHEN COALESCE("__cs_k_ability_f" > 0, FALSE) THEN "__cs_k_ability_f" END
          WHEN 1
          THEN 'adkar:ability: int() of this value is out of range'
          WHEN 2
          THEN 'adkar:ability: cannot convert an infinite double to an integer (a division by zero?)'
          WHEN 3
          THEN 'adkar:ability: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
          WHEN 4
          THEN 'adkar:ability: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        END,
        'adkar:ability: ' || CASE
          WHEN (
            "__cs_k_ability_f" IS NULL
          )
          AND (
            NOT (
              "__cs_k_ability_v" BETWEEN 1 AND 5
            )
          )
          THEN (
            'score ' || CAST("__cs_k_ability_v" AS VARCHAR)
          ) || ' is outside 1..5'
        END
      ),
      COALESCE(
        CASE CASE
            WHEN COALESCE("__cs_k_reinforcement_f" > 0, FALSE)
            THEN "__cs_k_reinforcement_f"
          END
          WHEN 1
          THEN 'adkar:reinforcement: int() of this value is out of range'
          WHEN 2
          THEN 'adkar:reinforcement: cannot convert an infinite double to an integer (a division by zero?)'
          WHEN 3
          THEN 'adkar:reinforcement: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
          WHEN 4
          THEN 'adkar:reinforcement: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        END,
        'adkar:reinforcement: ' || CASE
          WHEN (
            "__cs_k_reinforcement_f" IS NULL
          )
          AND (
            NOT (
              "__cs_k_reinforcement_v" BETWEEN 1 AND 5
            )
          )
          THEN (
            'score ' || CAST("__cs_k_reinforcement_v" AS VARCHAR)
          ) || ' is outside 1..5'
        END
      ),
      CASE CASE WHEN COALESCE("__cs_p0_f" > 0, FALSE) THEN "__cs_p0_f" END
        WHEN 1
        THEN 'playbook:awareness_sponsor_briefing: int() of this value is out of range'
        WHEN 2
        THEN 'playbook:awareness_sponsor_briefing: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'playbook:awareness_sponsor_briefing: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'playbook:awareness_sponsor_briefing: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE WHEN COALESCE("__cs_p1_f" > 0, FALSE) THEN "__cs_p1_f" END
        WHEN 1
        THEN 'playbook:desire_benefits_and_champions: int() of this value is out of range'
        WHEN 2
        THEN 'playbook:desire_benefits_and_champions: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'playbook:desire_benefits_and_champions: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'playbook:desire_benefits_and_champions: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE WHEN COALESCE("__cs_p2_f" > 0, FALSE) THEN "__cs_p2_f" END
        WHEN 1
        THEN 'playbook:knowledge_role_based_training: int() of this value is out of range'
        WHEN 2
        THEN 'playbook:knowledge_role_based_training: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'playbook:knowledge_role_based_training: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'playbook:knowledge_role_based_training: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE WHEN COALESCE("__cs_p3_f" > 0, FALSE) THEN "__cs_p3_f" END
        WHEN 1
        THEN 'playbook:ability_hands_on_coaching: int() of this value is out of range'
        WHEN 2
        THEN 'playbook:ability_hands_on_coaching: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'playbook:ability_hands_on_coaching: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'playbook:ability_hands_on_coaching: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE WHEN COALESCE("__cs_p4_f" > 0, FALSE) THEN "__cs_p4_f" END
        WHEN 1
        THEN 'playbook:reinforcement_recognition: int() of this value is out of range'
        WHEN 2
        THEN 'playbook:reinforcement_recognition: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'playbook:reinforcement_recognition: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'playbook:reinforcement_recognition: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE WHEN COALESCE("__cs_p5_f" > 0, FALSE) THEN "__cs_p5_f" END
        WHEN 1
        THEN 'playbook:sponsorship_gap: int() of this value is out of range'
        WHEN 2
        THEN 'playbook:sponsorship_gap: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'playbook:sponsorship_gap: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'playbook:sponsorship_gap: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE WHEN COALESCE("__cs_p6_f" > 0, FALSE) THEN "__cs_p6_f" END
        WHEN 1
        THEN 'playbook:low_engagement_near_renewal: int() of this value is out of range'
        WHEN 2
        THEN 'playbook:low_engagement_near_renewal: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'playbook:low_engagement_near_renewal: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'playbook:low_engagement_near_renewal: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE WHEN COALESCE("__cs_p7_f" > 0, FALSE) THEN "__cs_p7_f" END
        WHEN 1
        THEN 'playbook:negative_support_sentiment: int() of this value is out of range'
        WHEN 2
        THEN 'playbook:negative_support_sentiment: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'playbook:negative_support_sentiment: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'playbook:negative_support_sentiment: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE WHEN COALESCE("__cs_p8_f" > 0, FALSE) THEN "__cs_p8_f" END
        WHEN 1
        THEN 'playbook:power_user_quiet: int() of this value is out of range'
        WHEN 2
        THEN 'playbook:power_user_quiet: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'playbook:power_user_quiet: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'playbook:power_user_quiet: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END,
      CASE CASE WHEN COALESCE("__cs_p9_f" > 0, FALSE) THEN "__cs_p9_f" END
        WHEN 1
        THEN 'playbook:red_health_renewal: int() of this value is out of range'
        WHEN 2
        THEN 'playbook:red_health_renewal: cannot convert an infinite double to an integer (a division by zero?)'
        WHEN 3
        THEN 'playbook:red_health_renewal: no matching overload for \'||\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
        WHEN 4
        THEN 'playbook:red_health_renewal: no matching overload for \'&&\' applied to (no value, no value): an operand has no value (no data, or an error of its own), which this operation cannot pass on; check it first with has() or a ternary'
      END
    ]
  ) AS "errors",
  "__cs_lost0" AS "__cs_lost0",
  "__cs_lost1" AS "__cs_lost1",
  "__cs_lost2" AS "__cs_lost2",
  "__cs_lost3" AS "__cs_lost3",
  "__cs_lost4" AS "__cs_lost4",
  "__cs_lost5" AS "__cs_lost5",
  "__cs_score_awareness" AS "__cs_score_awareness",
  "__cs_score_desire" AS "__cs_score_desire",
  "__cs_score_knowledge" AS "__cs_score_knowledge",
  "__cs_score_ability" AS "__cs_score_ability",
  "__cs_score_reinforcement" AS "__cs_score_reinforcement",
  "__cs_pf0" AS "__cs_pf0",
  "__cs_pf1" AS "__cs_pf1",
  "__cs_previous" AS "__cs_previous",
  "__cs_delta" AS "__cs_delta"
FROM "s34"
ORDER BY
  "__cs_row";
