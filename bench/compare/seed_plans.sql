-- National-scale plans, targets, tasks and agencies for bench/compare.sh (Q4, Q5), loaded by SQL
-- straight into this API's tables after `platform migrate` and the national imports (the API
-- has no bulk plan import at this scale). Seeded and reproducible: no random(), every row is a
-- function of the units valid on 2024-06-01 (63 provinces, 705 districts) and of its position,
-- and ids follow the ORDER BY of a fresh database. Only "overdue" depends on the day it is read.
--
--  - agencies: per province a people's committee and 19 departments, per district a people's
--    committee and 4 offices: 63 × 20 + 705 × 5 = 4,785;
--  - plans: one per province and per district and year 2021–2025 (3,840), ISSUED and PUBLIC
--    (so an anonymous caller reads them all), issued by the unit's people's committee on a day
--    of January of the year, period = the year;
--  - 20 targets and 20 tasks per plan (76,800 each); task i is led by an agency of the plan's
--    unit (never its people's committee), every fourth task has two coordinating agencies, and
--    task i serves target i. Deadlines: the last day of January of the year plus 45 days per
--    task (up to 855 days later, so the 2025 plans have tasks due in 2026 and 2027); statuses
--    spread over the four (3 of 10 done, 1 of 10 cancelled, the rest open), so that tasks whose
--    deadline has passed and that are neither done nor cancelled are overdue today.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
\echo '  seed: units (the provinces and districts valid on 2024-06-01)'
CREATE TEMP TABLE seed_unit ON COMMIT DROP AS
  SELECT id AS unit_id, code, name, level,
         row_number() OVER (ORDER BY level DESC, sort_key, id) AS n,
         CASE level WHEN 'PROVINCE' THEN 20 ELSE 5 END AS agencies
  FROM admin_unit
  WHERE level IN ('PROVINCE', 'DISTRICT')
    AND (valid_from IS NULL OR valid_from <= DATE '2024-06-01')
    AND (valid_to IS NULL OR valid_to >= DATE '2024-06-01');

\echo '  seed: agencies'
CREATE TEMP TABLE seed_dept (k int, province_name text, district_name text) ON COMMIT DROP;
INSERT INTO seed_dept VALUES
  (2, 'Sở Kế hoạch và Đầu tư', 'Phòng Tài chính – Kế hoạch'),
  (3, 'Sở Tài chính', 'Phòng Kinh tế'),
  (4, 'Sở Nội vụ', 'Phòng Nội vụ'),
  (5, 'Sở Tư pháp', 'Phòng Tài nguyên và Môi trường'),
  (6, 'Sở Công Thương', NULL), (7, 'Sở Xây dựng', NULL), (8, 'Sở Giao thông vận tải', NULL),
  (9, 'Sở Nông nghiệp và Phát triển nông thôn', NULL), (10, 'Sở Tài nguyên và Môi trường', NULL),
  (11, 'Sở Giáo dục và Đào tạo', NULL), (12, 'Sở Y tế', NULL),
  (13, 'Sở Lao động – Thương binh và Xã hội', NULL), (14, 'Sở Văn hóa, Thể thao và Du lịch', NULL),
  (15, 'Sở Khoa học và Công nghệ', NULL), (16, 'Sở Thông tin và Truyền thông', NULL),
  (17, 'Thanh tra tỉnh', NULL), (18, 'Ban Dân tộc', NULL), (19, 'Công an tỉnh', NULL),
  (20, 'Bộ Chỉ huy Quân sự tỉnh', NULL);
INSERT INTO agency (name, short_name, kind, admin_unit_id, parent_agency_id, valid_from, valid_to,
                    successor_id, search_key, created_at, code)
SELECT a.name, NULL, a.kind, a.unit_id, NULL, NULL, NULL, NULL, lower(a.name),
       TIMESTAMPTZ '2026-01-01 00:00:00+00', NULL
FROM (
  SELECT u.unit_id, u.n, g.k,
         CASE WHEN g.k = 1 THEN 'Ủy ban nhân dân ' || u.name
              WHEN u.level = 'PROVINCE' THEN d.province_name || ' ' || u.name
              ELSE d.district_name || ' ' || u.name END AS name,
         CASE WHEN g.k = 1 THEN 'PEOPLES_COMMITTEE'
              WHEN u.level = 'PROVINCE' THEN 'DEPARTMENT' ELSE 'OFFICE' END AS kind
  FROM seed_unit u CROSS JOIN generate_series(1, u.agencies) AS g(k)
  LEFT JOIN seed_dept d ON d.k = g.k
) a
ORDER BY a.n, a.k;
CREATE TEMP TABLE seed_agency ON COMMIT DROP AS
  SELECT a.admin_unit_id AS unit_id, a.id AS agency_id,
         row_number() OVER (PARTITION BY a.admin_unit_id ORDER BY a.id) AS k
  FROM agency a JOIN seed_unit u ON u.unit_id = a.admin_unit_id;
CREATE INDEX ON seed_agency (unit_id, k);
ANALYZE seed_agency;

\echo '  seed: plans'
INSERT INTO plan (number, kind, title, admin_unit_id, issuer_agency_id, issued_on, signer,
                  period_from, period_to, status, visibility, source_url, parent_plan_id, version,
                  search_key, created_at, updated_at, code, source_hash)
SELECT u.n || '/KH-UBND', 'PLAN',
       'Kế hoạch phát triển kinh tế – xã hội năm ' || y || ' của ' || u.name,
       u.unit_id, pc.agency_id, make_date(y, 1, 2 + (u.n % 28)::int), NULL, y, y,
       'ISSUED', 'PUBLIC', NULL, NULL, 1,
       lower(u.n || '/kh-ubnd ke hoach phat trien kinh te xa hoi nam ' || y),
       TIMESTAMPTZ '2026-01-01 00:00:00+00', TIMESTAMPTZ '2026-01-01 00:00:00+00', NULL, NULL
FROM seed_unit u CROSS JOIN generate_series(2021, 2025) AS y
JOIN seed_agency pc ON pc.unit_id = u.unit_id AND pc.k = 1
ORDER BY y, u.n;
CREATE TEMP TABLE seed_plan ON COMMIT DROP AS
  SELECT p.id AS plan_id, p.period_from AS y, u.unit_id, u.n, u.agencies
  FROM plan p JOIN seed_unit u ON u.unit_id = p.admin_unit_id;

\echo '  seed: targets'
INSERT INTO target (plan_id, parent_target_id, indicator_id, admin_unit_id, ordinal, position,
                    period, measure, change_unit, comparator, value, upper_value, baseline,
                    baseline_period, unit_of_measure, disaggregation, wording)
SELECT p.plan_id, NULL, NULL, p.unit_id, i::text, i, p.y::text, 'LEVEL', NULL, 'AT_LEAST',
       (50 + (p.n * 7 + i * 13) % 50)::numeric, NULL, NULL, NULL, '%', 'total',
       'Chỉ tiêu ' || i || ': đạt ít nhất ' || (50 + (p.n * 7 + i * 13) % 50) || ' % vào cuối năm ' || p.y
FROM seed_plan p CROSS JOIN generate_series(1, 20) AS g(i)
ORDER BY p.plan_id, g.i;

\echo '  seed: tasks'
INSERT INTO assignment (plan_id, ordinal, position, title, content, lead_agency_id, due_on, status,
                        version, created_at, updated_at, group_title, recurrence)
SELECT p.plan_id, i::text, i,
       'Nhiệm vụ ' || i || ' của kế hoạch năm ' || p.y, NULL, lead.agency_id,
       make_date(p.y, 1, 31) + 45 * (i - 1),
       CASE (p.n + i) % 10 WHEN 0 THEN 'DONE' WHEN 1 THEN 'DONE' WHEN 2 THEN 'DONE'
            WHEN 3 THEN 'CANCELLED' WHEN 4 THEN 'IN_PROGRESS' WHEN 5 THEN 'IN_PROGRESS'
            WHEN 6 THEN 'IN_PROGRESS' ELSE 'NOT_STARTED' END,
       1, TIMESTAMPTZ '2026-01-01 00:00:00+00', TIMESTAMPTZ '2026-01-01 00:00:00+00', NULL, NULL
FROM seed_plan p CROSS JOIN generate_series(1, 20) AS g(i)
JOIN seed_agency lead ON lead.unit_id = p.unit_id AND lead.k = 2 + (i - 1) % (p.agencies - 1)
ORDER BY p.plan_id, g.i;

\echo '  seed: coordinators and task-target links'
INSERT INTO assignment_coordinator (assignment_id, agency_id)
SELECT a.id, c.agency_id
FROM assignment a JOIN seed_plan p ON p.plan_id = a.plan_id
CROSS JOIN generate_series(1, 2) AS g(j)
JOIN seed_agency c ON c.unit_id = p.unit_id
  AND c.k = 2 + (a.position - 1 + j) % (p.agencies - 1)
WHERE a.position % 4 = 0
ORDER BY a.id, g.j;
INSERT INTO assignment_target (assignment_id, target_id)
SELECT a.id, t.id FROM assignment a JOIN target t ON t.plan_id = a.plan_id AND t.position = a.position
ORDER BY a.id;
COMMIT;
ANALYZE agency;
ANALYZE plan;
ANALYZE target;
ANALYZE assignment;
ANALYZE assignment_coordinator;
ANALYZE assignment_target;
SELECT '  seeded: ' || (SELECT count(*) FROM agency) || ' agencies, ' || (SELECT count(*) FROM plan)
  || ' plans, ' || (SELECT count(*) FROM target) || ' targets, ' || (SELECT count(*) FROM assignment)
  || ' tasks (' || (SELECT count(*) FROM assignment WHERE due_on < (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                      AND status NOT IN ('DONE', 'CANCELLED')) || ' overdue today), '
  || (SELECT count(*) FROM assignment_coordinator) || ' coordinator links' \g
