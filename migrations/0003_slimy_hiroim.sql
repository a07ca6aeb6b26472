ALTER TABLE `repo_block` ADD `removed_at` integer;--> statement-breakpoint
CREATE INDEX `repo_block_removed_idx` ON `repo_block` (`did`,`removed_at`);