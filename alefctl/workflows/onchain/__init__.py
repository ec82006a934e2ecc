"""On-chain jobs: the transaction journal, deployment, identity registration and minting, views."""
