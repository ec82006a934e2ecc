"""An investor's own account: profile, balances, holdings, paged history, statement, wallet."""
