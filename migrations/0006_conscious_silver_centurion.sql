CREATE TABLE `import_node` (
	`marker` text NOT NULL,
	`cid` text NOT NULL,
	PRIMARY KEY(`marker`, `cid`)
);
--> statement-breakpoint
CREATE TABLE `import_record` (
	`marker` text NOT NULL,
	`uri` text NOT NULL,
	`collection` text NOT NULL,
	`rkey` text NOT NULL,
	`cid` text NOT NULL,
	`blobs` text NOT NULL,
	PRIMARY KEY(`marker`, `uri`)
);
