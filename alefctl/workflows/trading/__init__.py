"""The order path of the spec, run by the server's writer in group transactions.

state.py   an order's state while a group is processed, and the rows it becomes
funds.py   eligibility and locking of money or tokens, in the group's transaction
commands.py  the commands a group runs: place, cancel, amend
group.py   one group: token rows locked, commands run through the books, events applied
market.py  a token row as the group locks it, and whether it trades on the order book
place.py   a new order's checks, its funds locked, its entry into the book
amend.py   an amend: a resting order's quantity down or a new price
client_ids.py  a resent client_order_id answered with its original order
ledger.py  trade settlement in the database, accumulated and written once per group
books.py   Books, the state in memory that follows the database (one owner: the writer), and
           the books rebuilt from open orders and pending stops, in time priority
vocabulary.py  sides, order types, time in force, STP modes and statuses, declared once
"""
