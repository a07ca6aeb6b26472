CREATE TABLE `account` (
	`did` text PRIMARY KEY NOT NULL,
	`handle` text NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`status` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `app_password` (
	`did` text NOT NULL,
	`name` text NOT NULL,
	`password_hash` text NOT NULL,
	`privileged` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`did`, `name`)
);
--> statement-breakpoint
CREATE TABLE `blob` (
	`did` text NOT NULL,
	`cid` text NOT NULL,
	`mime_type` text NOT NULL,
	`size` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`did`, `cid`)
);
--> statement-breakpoint
CREATE TABLE `login_attempt` (
	`key` text PRIMARY KEY NOT NULL,
	`window_start` integer NOT NULL,
	`failures` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `preference` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`did` text NOT NULL,
	`name` text NOT NULL,
	`value_json` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `preference_did_idx` ON `preference` (`did`);--> statement-breakpoint
CREATE TABLE `record` (
	`uri` text PRIMARY KEY NOT NULL,
	`did` text NOT NULL,
	`collection` text NOT NULL,
	`rkey` text NOT NULL,
	`cid` text NOT NULL,
	`repo_rev` text NOT NULL,
	`indexed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `record_collection_idx` ON `record` (`did`,`collection`,`rkey`);--> statement-breakpoint
CREATE TABLE `record_blob` (
	`did` text NOT NULL,
	`blob_cid` text NOT NULL,
	`record_uri` text NOT NULL,
	PRIMARY KEY(`blob_cid`, `record_uri`)
);
--> statement-breakpoint
CREATE INDEX `record_blob_uri_idx` ON `record_blob` (`record_uri`);--> statement-breakpoint
CREATE TABLE `refresh_token` (
	`id` text PRIMARY KEY NOT NULL,
	`did` text NOT NULL,
	`app_password_name` text,
	`expires_at` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `refresh_token_did_idx` ON `refresh_token` (`did`);--> statement-breakpoint
CREATE TABLE `repo_block` (
	`did` text NOT NULL,
	`cid` text NOT NULL,
	`repo_rev` text NOT NULL,
	`size` integer NOT NULL,
	`content` blob NOT NULL,
	PRIMARY KEY(`did`, `cid`)
);
--> statement-breakpoint
CREATE INDEX `repo_block_rev_idx` ON `repo_block` (`did`,`repo_rev`,`cid`);--> statement-breakpoint
CREATE TABLE `repo_event` (
	`seq` integer PRIMARY KEY NOT NULL,
	`did` text NOT NULL,
	`type` text NOT NULL,
	`frame` blob NOT NULL,
	`sequenced_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `repo_event_time_idx` ON `repo_event` (`sequenced_at`);--> statement-breakpoint
CREATE TABLE `repo_root` (
	`did` text PRIMARY KEY NOT NULL,
	`cid` text NOT NULL,
	`rev` text NOT NULL,
	`data_cid` text NOT NULL,
	`indexed_at` integer NOT NULL
);
