"""The spec's five-transaction suite deployment, resumable after a failure part-way.

Steps, in order: IdentityRegistry(); Compliance(IR); SecurityToken(name, symbol, decimals, IR,
compliance), whose constructor binds the compliance and the registry to the token;
IR.addAgent(signer); token.addAgent(signer). The caller gets each transaction through
`on_sent(step, sent)` before it is waited for, records its hash, and after a crash passes the
recorded hashes back as `recorded_hashes`: steps already mined are reused, not sent again.
`on_mined(step, receipt)` reports each step's successful receipt (a reused one too) as soon as
it is known, so the caller can show a deployment's progress.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from chain import calls
from chain.calls import ContractCall
from chain.results import DeployResult, DeployStep, SentTransaction, TxReceipt

if TYPE_CHECKING:
    from chain.views import ChainViews

DEPLOY_STEPS = ("identity_registry", "compliance", "token", "identity_registry_agent", "token_agent")

OnSent = Callable[[str, SentTransaction], None]
OnMined = Callable[[str, TxReceipt], None]


class _SuiteDeployment:
    def __init__(
        self,
        client: ChainViews,
        recorded_hashes: Mapping[str, str],
        on_sent: OnSent | None,
        on_mined: OnMined | None = None,
    ) -> None:
        self.client = client
        self.recorded_hashes = recorded_hashes
        self.on_sent = on_sent
        self.on_mined = on_mined
        self.steps: list[DeployStep] = []

    def run(self, step: str, build_call: Callable[[], ContractCall]) -> TxReceipt:
        """Reuse the recorded transaction of this step if it exists, else send it now."""
        receipt = self._recorded_receipt(step)
        if receipt is None:
            sent = self.client.send(build_call())
            if self.on_sent is not None:
                self.on_sent(step, sent)
            receipt = self.client.wait(sent)
        if self.on_mined is not None:
            self.on_mined(step, receipt)
        self.steps.append(DeployStep(step, receipt.tx_hash, receipt.gas_used))
        return receipt

    def grant_agent(self, step: str, contract: str, address: str) -> None:
        """addAgent(signer), unless a crash hid that it already happened."""
        agent = self.client.signer_address
        if step not in self.recorded_hashes and self.client.is_agent(contract, address, agent):
            self.steps.append(DeployStep(step, None, 0))  # done earlier; its hash was never recorded
            return
        self.run(step, lambda: calls.add_agent(contract, address, agent))

    def _recorded_receipt(self, step: str) -> TxReceipt | None:
        tx_hash = self.recorded_hashes.get(step)
        if not tx_hash:
            return None
        receipt = self.client.receipt_of(tx_hash)
        if receipt is None and self.client.is_pending(tx_hash):
            receipt = self.client.wait(tx_hash)
        if receipt is not None and not receipt.succeeded:
            raise self.client.explain_failure(receipt).with_context(f"deploy step {step}", receipt)
        return receipt  # None: the node never kept it, so the step is sent again


def deploy_suite(
    client: ChainViews,
    name: str,
    symbol: str,
    decimals: int,
    recorded_hashes: Mapping[str, str] | None = None,
    on_sent: OnSent | None = None,
    on_mined: OnMined | None = None,
) -> DeployResult:
    """Deploy (or finish deploying) IdentityRegistry, Compliance and SecurityToken."""
    deployment = _SuiteDeployment(client, recorded_hashes or {}, on_sent, on_mined)
    identity_registry = _address(deployment.run("identity_registry", calls.deploy_identity_registry))
    compliance = _address(deployment.run("compliance", lambda: calls.deploy_compliance(identity_registry)))
    token = _address(
        deployment.run(
            "token", lambda: calls.deploy_token(name, symbol, decimals, identity_registry, compliance)
        )
    )
    deployment.grant_agent("identity_registry_agent", "IdentityRegistry", identity_registry)
    deployment.grant_agent("token_agent", "SecurityToken", token)
    return DeployResult(identity_registry, compliance, token, tuple(deployment.steps))


def _address(receipt: TxReceipt) -> str:
    assert receipt.contract_address is not None, "a deployment receipt always has an address"
    return receipt.contract_address
