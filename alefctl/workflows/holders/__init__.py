"""Agent operations on holders: freeze, forced transfer, burn, wallet recovery; DB-first chain jobs."""
