CREATE TABLE `oauth_consent` (
	`did` text NOT NULL,
	`client_id` text NOT NULL,
	`client_name` text,
	`scope` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`did`, `client_id`)
);
--> statement-breakpoint
CREATE TABLE `oauth_dpop_jti` (
	`jti` text PRIMARY KEY NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `oauth_dpop_jti_expires_idx` ON `oauth_dpop_jti` (`expires_at`);--> statement-breakpoint
CREATE TABLE `oauth_request` (
	`id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`client_auth` text NOT NULL,
	`parameters` text NOT NULL,
	`dpop_jkt` text,
	`did` text,
	`code` text,
	`session_id` text,
	`expires_at` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `oauth_request_code_idx` ON `oauth_request` (`code`);--> statement-breakpoint
CREATE INDEX `oauth_request_expires_idx` ON `oauth_request` (`expires_at`);--> statement-breakpoint
CREATE TABLE `oauth_session` (
	`id` text PRIMARY KEY NOT NULL,
	`did` text NOT NULL,
	`client_id` text NOT NULL,
	`client_auth` text NOT NULL,
	`scope` text NOT NULL,
	`dpop_jkt` text NOT NULL,
	`refresh_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `oauth_session_did_idx` ON `oauth_session` (`did`,`client_id`);--> statement-breakpoint
CREATE INDEX `oauth_session_expires_idx` ON `oauth_session` (`expires_at`);