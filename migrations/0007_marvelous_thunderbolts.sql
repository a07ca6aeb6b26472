DROP INDEX `repo_block_removed_idx`;--> statement-breakpoint
CREATE INDEX `repo_block_removed_idx` ON `repo_block` (`did`,`removed_at`) WHERE "repo_block"."removed_at" IS NOT NULL;