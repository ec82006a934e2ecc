-- Hot rows. A busy order book updates the same few rows of users (fiat balances) and wallets
-- (token balances) thousands of times a second, and every update leaves a dead row version.
--
-- They are now HOT updates: the new version fits on its page (half of each page is left free
-- for it) and changes no indexed column, so it needs no new index entries and the page prunes
-- its dead versions itself. The holders index covered only positive balances, and a column in
-- an index predicate counts as indexed: every balance change was a non-HOT update, with a new
-- entry in each of the table's three indexes. Dead versions piled up until autovacuum's next
-- round, and the order path slowed by a fifth over that minute. The index now covers every
-- wallet; the holders queries keep their balance > 0 condition.
ALTER TABLE users SET (fillfactor = 50);
ALTER TABLE wallets SET (fillfactor = 50);
DROP INDEX wallets_holders;
CREATE INDEX wallets_holders ON wallets (token_id);
