"""The order path of the spec, run by the server's writer in group transactions.

state.py   an order's state while a group is processed, and the rows it becomes
funds.py   eligibility and locking of money or tokens, in the group's transaction
group.py   one group: token rows locked, commands run through the books, events applied
ledger.py  trade settlement in the database, accumulated and written once per group
books.py   Books, the state in memory that follows the database (one owner: the writer), and
           the books rebuilt from open orders and pending stops, in time priority
vocabulary.py  sides, order types, time in force, STP modes and statuses, declared once
"""
