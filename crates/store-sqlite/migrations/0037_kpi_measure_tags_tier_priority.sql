-- PostgreSQL's 0037 indexes a tag's measured rows by tier and priority too
-- (a tag's tier's priority scanned the tag's two periods there, over the
-- cockpit's target at 10M tickets a year with full 30-day windows). SQLite
-- reads those rows from the tag's key within the target, and each index
-- slows the embedded writer, so this version changes nothing here; it
-- keeps the two backends' version numbers the same.
SELECT 1;
