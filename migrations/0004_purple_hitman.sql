CREATE TABLE `login_limit` (
	`key` text PRIMARY KEY NOT NULL,
	`tat` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `preference_set` (
	`did` text NOT NULL,
	`namespace` text NOT NULL,
	`values_json` text NOT NULL,
	PRIMARY KEY(`did`, `namespace`)
);
--> statement-breakpoint
-- Hand-added between the generated statements: existing preferences move into one row per account, in their order.
INSERT INTO `preference_set` (`did`, `namespace`, `values_json`)
SELECT `did`, 'app.bsky', json_group_array(json(`value_json`))
FROM (SELECT `did`, `value_json` FROM `preference` WHERE `name` LIKE 'app.bsky.%' ORDER BY `id`)
GROUP BY `did`;--> statement-breakpoint
DROP TABLE `login_attempt`;--> statement-breakpoint
DROP TABLE `preference`;--> statement-breakpoint
ALTER TABLE `blob` ADD `generation` text;