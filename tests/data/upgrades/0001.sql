BEGIN TRANSACTION;
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO "alembic_version" VALUES('0001');
CREATE TABLE api_tokens (
	id INTEGER NOT NULL, 
	user_id INTEGER NOT NULL, 
	token_hash VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
	UNIQUE (token_hash)
);
INSERT INTO "api_tokens" VALUES(1,1,'46e94f932c11243cc3e1f3501bdbfd1bb3ea008678a074874fa97789977a1081','2026-12-06 04:36:26.401062');
INSERT INTO "api_tokens" VALUES(2,2,'297120da81c545ae966f39fe9b6602dc4c9661b488305648c66a4db62ab8b21a','2026-12-06 04:36:26.419961');
INSERT INTO "api_tokens" VALUES(3,3,'aa62b383a1023714d4f2265e31368049eb4dcdae968d8b1e3992332aca6a13bb','2026-12-06 04:36:26.421226');
INSERT INTO "api_tokens" VALUES(4,4,'a1e78bab35642247435db250e44c837c08b4ff67ae5d707e6f80b32697071330','2026-12-06 04:36:26.441156');
INSERT INTO "api_tokens" VALUES(5,5,'574aa3ca1c55bf46e9a4fcbb9a23017833fff16a392b4bb0df447028e1c6f037','2026-12-06 04:36:26.448058');
INSERT INTO "api_tokens" VALUES(6,6,'456182c81af4f2f69328b252639e57b104ccdc46878cb0b9146512becf87987e','2026-12-06 04:36:26.449220');
INSERT INTO "api_tokens" VALUES(7,7,'f43e8a6cefe00f2fbaeeb559247d5e916e84feb4ad3894f4bef5422750914637','2026-12-06 04:36:26.464017');
INSERT INTO "api_tokens" VALUES(8,8,'e54956c0b52f35844e966794c207477d1564d245d46308939929079ac77f66aa','2026-12-06 04:36:26.475907');
INSERT INTO "api_tokens" VALUES(9,9,'47e06b6e03f187bb4ee25d8fd721a6774b760879c9c2dd07aee368a1652ec314','2026-12-06 04:36:26.488302');
INSERT INTO "api_tokens" VALUES(10,10,'3a3748cbcc2101cf509e32388e37353669ae0d38ab2fbf7635b3fa152a227e57','2026-12-06 04:36:26.506919');
INSERT INTO "api_tokens" VALUES(11,11,'5f7b66d82e7c98abaa2aff5a4ce55510b8371ac66580151a4d92137528d8cc59','2026-12-06 04:36:26.513737');
CREATE TABLE events (
	id INTEGER NOT NULL, 
	instance_id VARCHAR(36) NOT NULL, 
	at DATETIME NOT NULL, 
	actor VARCHAR(64) NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	task_id VARCHAR(36), 
	task_spec VARCHAR(200), 
	task_name VARCHAR(300), 
	lane VARCHAR(64), 
	data JSON, 
	PRIMARY KEY (id), 
	FOREIGN KEY(instance_id) REFERENCES instances (id) ON DELETE CASCADE
);
CREATE TABLE human_tasks (
	id VARCHAR(36) NOT NULL, 
	instance_id VARCHAR(36) NOT NULL, 
	spiff_task_id VARCHAR(36) NOT NULL, 
	task_spec VARCHAR(200) NOT NULL, 
	name VARCHAR(300) NOT NULL, 
	lane VARCHAR(64) NOT NULL, 
	form VARCHAR(300), 
	status VARCHAR(20) NOT NULL, 
	assignee VARCHAR(64), 
	due_at DATETIME, 
	created_at DATETIME NOT NULL, 
	completed_at DATETIME, 
	completed_by VARCHAR(64), 
	PRIMARY KEY (id), 
	FOREIGN KEY(instance_id) REFERENCES instances (id) ON DELETE CASCADE
);
CREATE TABLE instances (
	id VARCHAR(36) NOT NULL, 
	process_key VARCHAR(100) NOT NULL, 
	version_id INTEGER NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	fiscal_year INTEGER, 
	title VARCHAR(300) NOT NULL, 
	state JSON NOT NULL, 
	data JSON NOT NULL, 
	revision INTEGER NOT NULL, 
	started_by VARCHAR(64) NOT NULL, 
	started_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	ended_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(version_id) REFERENCES process_versions (id)
);
CREATE TABLE process_versions (
	id INTEGER NOT NULL, 
	"key" VARCHAR(100) NOT NULL, 
	version INTEGER NOT NULL, 
	name VARCHAR(300) NOT NULL, 
	bpmn_xml TEXT NOT NULL, 
	content_hash VARCHAR(64) NOT NULL, 
	spec JSON NOT NULL, 
	meta JSON NOT NULL, 
	forms JSON NOT NULL, 
	published_by VARCHAR(64) NOT NULL, 
	published_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE ("key", version)
);
CREATE TABLE users (
	id INTEGER NOT NULL, 
	username VARCHAR(64) NOT NULL, 
	display_name VARCHAR(200) NOT NULL, 
	password_hash VARCHAR(256), 
	roles JSON NOT NULL, 
	lanes JSON NOT NULL, 
	active BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (username)
);
INSERT INTO "users" VALUES(1,'officer','ผู้ใช้ officer',NULL,'["officer"]','["plan_officer"]',1,'2026-12-06 04:36:26.398990');
INSERT INTO "users" VALUES(2,'committee','ผู้ใช้ committee',NULL,'["officer"]','["committee"]',1,'2026-12-06 04:36:26.418974');
INSERT INTO "users" VALUES(3,'head','ผู้ใช้ head',NULL,'["officer"]','["plan_head"]',1,'2026-12-06 04:36:26.420605');
INSERT INTO "users" VALUES(4,'director','ผู้ใช้ director',NULL,'["officer"]','["esa_director"]',1,'2026-12-06 04:36:26.437349');
INSERT INTO "users" VALUES(5,'school','ผู้ใช้ school',NULL,'["officer"]','["school"]',1,'2026-12-06 04:36:26.447174');
INSERT INTO "users" VALUES(6,'group','ผู้ใช้ group',NULL,'["officer"]','[]',1,'2026-12-06 04:36:26.448655');
INSERT INTO "users" VALUES(7,'school2','ผู้ใช้ school2',NULL,'["officer"]','["school"]',1,'2026-12-06 04:36:26.460836');
INSERT INTO "users" VALUES(8,'school3','ผู้ใช้ school3',NULL,'["officer"]','["school"]',1,'2026-12-06 04:36:26.464786');
INSERT INTO "users" VALUES(9,'school4','ผู้ใช้ school4',NULL,'["officer"]','["school"]',1,'2026-12-06 04:36:26.477307');
INSERT INTO "users" VALUES(10,'analyst','ผู้ใช้ analyst',NULL,'["analyst"]','[]',1,'2026-12-06 04:36:26.489337');
INSERT INTO "users" VALUES(11,'supervisor','ผู้ใช้ supervisor',NULL,'["supervisor"]','[]',1,'2026-12-06 04:36:26.508540');
CREATE INDEX ix_process_versions_key ON process_versions ("key");
CREATE INDEX ix_api_tokens_user_id ON api_tokens (user_id);
CREATE INDEX ix_instances_fiscal_year ON instances (fiscal_year);
CREATE INDEX ix_instances_process_key ON instances (process_key);
CREATE INDEX ix_instances_started_at ON instances (started_at);
CREATE INDEX ix_instances_status ON instances (status);
CREATE INDEX ix_events_instance_id ON events (instance_id);
CREATE INDEX ix_human_tasks_created_at ON human_tasks (created_at);
CREATE INDEX ix_human_tasks_instance_id ON human_tasks (instance_id);
CREATE INDEX ix_human_tasks_ready_lane ON human_tasks (status, lane);
COMMIT;
