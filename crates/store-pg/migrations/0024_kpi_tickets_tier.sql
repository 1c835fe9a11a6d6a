-- A ticket's tier (its requester's, or its organization's when higher)
-- kept with its facts, so the tier slice reads it like the organization
-- and tags, and new views of the cells hold each tier (with its teams,
-- agents and channels). When a customer's or an organization's tier
-- changes, `kpi.retier` moves their tickets. Filled here so the rows
-- path slices by tier at once; forgetting the zone makes the hourly
-- `kpi.bottlenecks` job rebuild the cells.
ALTER TABLE kpi_tickets ADD COLUMN tier TEXT;
UPDATE kpi_tickets SET tier = CASE
    WHEN 'vip' IN ((SELECT tier FROM customers WHERE id = requester_id),
                   (SELECT tier FROM organizations WHERE id = organization_id)) THEN 'vip'
    WHEN 'priority' IN ((SELECT tier FROM customers WHERE id = requester_id),
                        (SELECT tier FROM organizations WHERE id = organization_id)) THEN 'priority'
    ELSE 'standard'
END;
DELETE FROM kpi_cells_zone;
