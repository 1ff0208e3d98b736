-- Unity Catalog grants for medallion in qa (rendered from conf/qa.yml by `medallion grants`).
-- Writer (the jobs' service principal): 22222222-2222-2222-2222-222222222222; readers, gold only: medallion-readers-qa.

-- 1. Bootstrap: once, by the catalog owner or a metastore admin.
GRANT USE CATALOG, CREATE SCHEMA ON CATALOG `medallion_qa` TO `22222222-2222-2222-2222-222222222222`;
GRANT READ FILES, WRITE FILES, CREATE EXTERNAL TABLE ON EXTERNAL LOCATION `medallion_qa_lakehouse` TO `22222222-2222-2222-2222-222222222222`;
GRANT READ FILES, WRITE FILES ON EXTERNAL LOCATION `medallion_qa_landing` TO `22222222-2222-2222-2222-222222222222`;
GRANT USE CATALOG ON CATALOG `medallion_qa` TO `medallion-readers-qa`;

-- 2. Schemas and tables: applied by `medallion setup` / notebook 02-setup on every run.
GRANT USE SCHEMA, CREATE TABLE, SELECT, MODIFY ON SCHEMA `medallion_qa`.`fitness_bronze` TO `22222222-2222-2222-2222-222222222222`;
REVOKE ALL PRIVILEGES ON SCHEMA `medallion_qa`.`fitness_bronze` FROM `medallion-readers-qa`;
GRANT USE SCHEMA, CREATE TABLE, SELECT, MODIFY ON SCHEMA `medallion_qa`.`fitness_silver` TO `22222222-2222-2222-2222-222222222222`;
REVOKE ALL PRIVILEGES ON SCHEMA `medallion_qa`.`fitness_silver` FROM `medallion-readers-qa`;
GRANT USE SCHEMA, CREATE TABLE, SELECT, MODIFY ON SCHEMA `medallion_qa`.`fitness_gold` TO `22222222-2222-2222-2222-222222222222`;
GRANT USE SCHEMA ON SCHEMA `medallion_qa`.`fitness_gold` TO `medallion-readers-qa`;
GRANT SELECT ON TABLE `medallion_qa`.`fitness_gold`.`gym_summary` TO `medallion-readers-qa`;
GRANT SELECT ON TABLE `medallion_qa`.`fitness_gold`.`workout_bpm_summary` TO `medallion-readers-qa`;
