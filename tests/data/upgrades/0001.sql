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
INSERT INTO "api_tokens" VALUES(1,1,'4129e88533da7d7b8f50a9c8f798422a9ee755c23c71c7c82fa2447a1d03615c','2026-12-06 04:33:17.812215');
INSERT INTO "api_tokens" VALUES(2,2,'a8f272006493fdc6c3a30b1bdc73775bd49725b2431a7ce6d38f04b35238f6c0','2026-12-06 04:33:17.825624');
INSERT INTO "api_tokens" VALUES(3,3,'bc0cdf469aff7630b384e7fd030d0ab418cae9b6e940125cf92d8fec334f20c8','2026-12-06 04:33:17.827283');
INSERT INTO "api_tokens" VALUES(4,4,'ec10a1b8ed561ea8d7750a3afe22ae0bb5ae87271d92c66c62e4ff4e7af0d2cb','2026-12-06 04:33:17.828499');
INSERT INTO "api_tokens" VALUES(5,5,'53aaae13286d9c6fcab573a5834c0445f0081b2bb34de1cebf264d539e88e4ec','2026-12-06 04:33:17.843088');
INSERT INTO "api_tokens" VALUES(6,6,'a1d7e2712aa37eec3ba454b3d1ad20f5fd176da3bd2eca7a5a2fe9a367d3ac5f','2026-12-06 04:33:17.844853');
INSERT INTO "api_tokens" VALUES(7,7,'74b7d65543f8df9d6fb4e86a6f08def61745189f728c45f1baf7349f4f82ee4b','2026-12-06 04:33:17.846612');
INSERT INTO "api_tokens" VALUES(8,8,'535d5a05317b5152f1e9cbdc06420694bc40644daa65a9aaa7ab0c09c6d2df66','2026-12-06 04:33:17.850917');
INSERT INTO "api_tokens" VALUES(9,9,'47a7dab953d89931f66202de9052b5678a3c5910f46a24a7f9b9dfdbb8a2f956','2026-12-06 04:33:17.858171');
INSERT INTO "api_tokens" VALUES(10,10,'17dc133e542f23c4d1d16e91b92baa67b6eb13dfe53f62ac417f1c5b5aa94e26','2026-12-06 04:33:17.859466');
INSERT INTO "api_tokens" VALUES(11,11,'7fd4466b1d9cdee9ac26097c9039de148cae54cee5b9b6c50984172d81fe308c','2026-12-06 04:33:17.860476');
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
INSERT INTO "users" VALUES(1,'officer','ผู้ใช้ officer',NULL,'["officer"]','["plan_officer"]',1,'2026-12-06 04:33:17.810431');
INSERT INTO "users" VALUES(2,'committee','ผู้ใช้ committee',NULL,'["officer"]','["committee"]',1,'2026-12-06 04:33:17.813031');
INSERT INTO "users" VALUES(3,'head','ผู้ใช้ head',NULL,'["officer"]','["plan_head"]',1,'2026-12-06 04:33:17.826598');
INSERT INTO "users" VALUES(4,'director','ผู้ใช้ director',NULL,'["officer"]','["esa_director"]',1,'2026-12-06 04:33:17.827869');
INSERT INTO "users" VALUES(5,'school','ผู้ใช้ school',NULL,'["officer"]','["school"]',1,'2026-12-06 04:33:17.829033');
INSERT INTO "users" VALUES(6,'group','ผู้ใช้ group',NULL,'["officer"]','[]',1,'2026-12-06 04:33:17.844147');
INSERT INTO "users" VALUES(7,'school2','ผู้ใช้ school2',NULL,'["officer"]','["school"]',1,'2026-12-06 04:33:17.845385');
INSERT INTO "users" VALUES(8,'school3','ผู้ใช้ school3',NULL,'["officer"]','["school"]',1,'2026-12-06 04:33:17.847255');
INSERT INTO "users" VALUES(9,'school4','ผู้ใช้ school4',NULL,'["officer"]','["school"]',1,'2026-12-06 04:33:17.851605');
INSERT INTO "users" VALUES(10,'analyst','ผู้ใช้ analyst',NULL,'["analyst"]','[]',1,'2026-12-06 04:33:17.858890');
INSERT INTO "users" VALUES(11,'supervisor','ผู้ใช้ supervisor',NULL,'["supervisor"]','[]',1,'2026-12-06 04:33:17.859973');
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
