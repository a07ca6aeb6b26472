CREATE TABLE `account_email` (
	`did` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`confirmed_at` integer
);
--> statement-breakpoint
CREATE TABLE `relay_crawl` (
	`relay` text PRIMARY KEY NOT NULL,
	`hostname` text NOT NULL,
	`status` text NOT NULL,
	`detail` text,
	`attempts` integer NOT NULL,
	`attempted_at` integer NOT NULL,
	`ok_at` integer
);
--> statement-breakpoint
CREATE INDEX `record_rev_idx` ON `record` (`did`,`repo_rev`);