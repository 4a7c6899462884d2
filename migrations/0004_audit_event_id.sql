ALTER TABLE `audit_events` ADD `event_id` text;--> statement-breakpoint
CREATE UNIQUE INDEX `audit_event_id` ON `audit_events` (`event_id`);