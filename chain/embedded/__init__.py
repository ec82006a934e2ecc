"""The embedded EVM: py-evm through eth-tester, its state in a data directory shared by processes."""
