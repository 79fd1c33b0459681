-- The number of ledger rows per status, and of leases held.
SELECT status, count(*) FROM fullstop_data.ledger GROUP BY status
UNION ALL
SELECT 'claimed', count(*) FROM fullstop_data.ledger_claim
