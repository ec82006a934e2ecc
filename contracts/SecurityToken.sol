// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AgentRoles} from "./AgentRoles.sol";
import {IIdentityRegistryView, ICompliance} from "./Interfaces.sol";

/// @title SecurityToken
/// @notice ERC-3643 permissioned token: ERC-20 for holders, with agent powers (mint, burn,
/// forced transfer, pause, freeze, wallet recovery) and every receipt of tokens checked by the
/// identity registry and the compliance contract.
/// @dev Starts unpaused; holder-signed transfers go through Compliance.checkHolderTransfer, which
/// refuses them while the token is in platform custody (delivery versus payment). The constructor binds the compliance and the registry to this token
/// (the registry binding lets recoveryAddress move a registration).
contract SecurityToken is AgentRoles {
    string public name;
    string public symbol;
    uint8 public immutable decimals;
    uint256 public totalSupply;
    bool public paused;

    IIdentityRegistryView private immutable _identityRegistry;
    ICompliance private immutable _compliance;

    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;
    mapping(address => bool) public isFrozen;
    mapping(address => uint256) private _frozenTokens;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);
    event AddressFrozen(address indexed userAddress, bool indexed isFrozen, address indexed owner);
    event TokensFrozen(address indexed userAddress, uint256 amount);
    event TokensUnfrozen(address indexed userAddress, uint256 amount);
    event Paused(address userAddress);
    event Unpaused(address userAddress);
    event RecoverySuccess(address indexed lostWallet, address indexed newWallet, address indexed investorOnchainID);
    event IdentityRegistryAdded(address indexed identityRegistry);
    event ComplianceAdded(address indexed compliance);

    error TransfersPaused();
    error AlreadyPaused();
    error NotPaused();
    error WalletFrozen(address wallet);
    error InsufficientFreeBalance(address wallet, uint256 freeBalance, uint256 amount);
    error InsufficientBalance(address wallet, uint256 balance, uint256 amount);
    error InsufficientAllowance(address owner, address spender, uint256 allowance, uint256 amount);
    error FreezeExceedsBalance(address wallet, uint256 balance, uint256 frozenAfter);
    error UnfreezeExceedsFrozen(address wallet, uint256 frozen, uint256 amount);
    error NothingToRecover(address lostWallet);
    error RecoveryIdentityMismatch(address wallet, address identity);
    error ArrayLengthMismatch();

    constructor(
        string memory name_,
        string memory symbol_,
        uint8 decimals_,
        address identityRegistry_,
        address compliance_
    ) {
        if (identityRegistry_ == address(0) || compliance_ == address(0)) revert ZeroAddress();
        name = name_;
        symbol = symbol_;
        decimals = decimals_;
        _identityRegistry = IIdentityRegistryView(identityRegistry_);
        _compliance = ICompliance(compliance_);
        emit IdentityRegistryAdded(identityRegistry_);
        emit ComplianceAdded(compliance_);
        ICompliance(compliance_).bindToken(address(this));
        IIdentityRegistryView(identityRegistry_).bindToken(address(this));
    }

    function identityRegistry() external view returns (address) {
        return address(_identityRegistry);
    }

    function compliance() external view returns (address) {
        return address(_compliance);
    }

    function getFrozenTokens(address wallet) external view returns (uint256) {
        return _frozenTokens[wallet];
    }

    // ---- holders (ERC-20) ----

    function transfer(address to, uint256 amount) external returns (bool) {
        _holderTransfer(msg.sender, to, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            if (amount > allowed) revert InsufficientAllowance(from, msg.sender, allowed, amount);
            allowance[from][msg.sender] = allowed - amount;
        }
        _holderTransfer(from, to, amount);
        return true;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        if (spender == address(0)) revert ZeroAddress();
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    function batchTransfer(address[] calldata tos, uint256[] calldata amounts) external {
        if (tos.length != amounts.length) revert ArrayLengthMismatch();
        for (uint256 i = 0; i < tos.length; i++) _holderTransfer(msg.sender, tos[i], amounts[i]);
    }

    // ---- agents: supply and forced transfers ----

    function mint(address to, uint256 amount) external onlyAgent {
        _mint(to, amount);
    }

    function batchMint(address[] calldata tos, uint256[] calldata amounts) external onlyAgent {
        if (tos.length != amounts.length) revert ArrayLengthMismatch();
        for (uint256 i = 0; i < tos.length; i++) _mint(tos[i], amounts[i]);
    }

    function burn(address from, uint256 amount) external onlyAgent {
        _burn(from, amount);
    }

    function batchBurn(address[] calldata froms, uint256[] calldata amounts) external onlyAgent {
        if (froms.length != amounts.length) revert ArrayLengthMismatch();
        for (uint256 i = 0; i < froms.length; i++) _burn(froms[i], amounts[i]);
    }

    function forcedTransfer(address from, address to, uint256 amount) external onlyAgent returns (bool) {
        _forcedTransfer(from, to, amount);
        return true;
    }

    function batchForcedTransfer(
        address[] calldata froms,
        address[] calldata tos,
        uint256[] calldata amounts
    ) external onlyAgent {
        if (froms.length != tos.length || froms.length != amounts.length) revert ArrayLengthMismatch();
        for (uint256 i = 0; i < froms.length; i++) _forcedTransfer(froms[i], tos[i], amounts[i]);
    }

    // ---- agents: pause and freeze ----

    function pause() external onlyAgent {
        if (paused) revert AlreadyPaused();
        paused = true;
        emit Paused(msg.sender);
    }

    function unpause() external onlyAgent {
        if (!paused) revert NotPaused();
        paused = false;
        emit Unpaused(msg.sender);
    }

    function setAddressFrozen(address wallet, bool freeze) external onlyAgent {
        _setAddressFrozen(wallet, freeze);
    }

    function batchSetAddressFrozen(address[] calldata wallets, bool[] calldata freeze) external onlyAgent {
        if (wallets.length != freeze.length) revert ArrayLengthMismatch();
        for (uint256 i = 0; i < wallets.length; i++) _setAddressFrozen(wallets[i], freeze[i]);
    }

    function freezePartialTokens(address wallet, uint256 amount) external onlyAgent {
        _freezePartial(wallet, amount);
    }

    function batchFreezePartialTokens(address[] calldata wallets, uint256[] calldata amounts) external onlyAgent {
        if (wallets.length != amounts.length) revert ArrayLengthMismatch();
        for (uint256 i = 0; i < wallets.length; i++) _freezePartial(wallets[i], amounts[i]);
    }

    function unfreezePartialTokens(address wallet, uint256 amount) external onlyAgent {
        _unfreezePartial(wallet, amount);
    }

    function batchUnfreezePartialTokens(address[] calldata wallets, uint256[] calldata amounts) external onlyAgent {
        if (wallets.length != amounts.length) revert ArrayLengthMismatch();
        for (uint256 i = 0; i < wallets.length; i++) _unfreezePartial(wallets[i], amounts[i]);
    }

    // ---- agents: recovery of a lost wallet ----

    /// @notice Moves balance, frozen tokens, freeze flag and registration to a new wallet.
    function recoveryAddress(
        address lostWallet,
        address newWallet,
        address investorOnchainID
    ) external onlyAgent returns (bool) {
        uint256 amount = balanceOf[lostWallet];
        if (amount == 0) revert NothingToRecover(lostWallet);
        if (newWallet == address(0) || investorOnchainID == address(0)) revert ZeroAddress();
        if (_identityRegistry.identity(lostWallet) != investorOnchainID) {
            revert RecoveryIdentityMismatch(lostWallet, investorOnchainID);
        }
        _moveRegistration(lostWallet, newWallet, investorOnchainID);
        _moveFreezeState(lostWallet, newWallet);
        _move(lostWallet, newWallet, amount);
        _compliance.transferred(lostWallet, newWallet, amount);
        emit RecoverySuccess(lostWallet, newWallet, investorOnchainID);
        return true;
    }

    // ---- internals ----

    function _holderTransfer(address from, address to, uint256 amount) private {
        if (paused) revert TransfersPaused();
        if (isFrozen[from]) revert WalletFrozen(from);
        if (isFrozen[to]) revert WalletFrozen(to);
        uint256 free = balanceOf[from] - _frozenTokens[from];
        if (amount > free) revert InsufficientFreeBalance(from, free, amount);
        _compliance.checkHolderTransfer(from, to, amount);
        _move(from, to, amount);
        _compliance.transferred(from, to, amount);
    }

    // Agents move tokens regardless of pause and freeze flags, but never past compliance.
    function _forcedTransfer(address from, address to, uint256 amount) private {
        _requireBalance(from, amount);
        _compliance.checkTransfer(from, to, amount);
        _releaseShortfall(from, amount);
        _move(from, to, amount);
        _compliance.transferred(from, to, amount);
    }

    function _mint(address to, uint256 amount) private {
        _compliance.checkTransfer(address(0), to, amount);
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
        _compliance.created(to, amount);
    }

    function _burn(address from, uint256 amount) private {
        _requireBalance(from, amount);
        _releaseShortfall(from, amount);
        balanceOf[from] -= amount;
        totalSupply -= amount;
        emit Transfer(from, address(0), amount);
        _compliance.destroyed(from, amount);
    }

    function _move(address from, address to, uint256 amount) private {
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
        emit Transfer(from, to, amount);
    }

    function _requireBalance(address wallet, uint256 amount) private view {
        uint256 balance = balanceOf[wallet];
        if (amount > balance) revert InsufficientBalance(wallet, balance, amount);
    }

    // Free tokens are spent first; only the part that exceeds them is unfrozen.
    function _releaseShortfall(address wallet, uint256 amount) private {
        uint256 free = balanceOf[wallet] - _frozenTokens[wallet];
        if (amount > free) {
            uint256 shortfall = amount - free;
            _frozenTokens[wallet] -= shortfall;
            emit TokensUnfrozen(wallet, shortfall);
        }
    }

    function _setAddressFrozen(address wallet, bool freeze) private {
        isFrozen[wallet] = freeze;
        emit AddressFrozen(wallet, freeze, msg.sender);
    }

    function _freezePartial(address wallet, uint256 amount) private {
        uint256 balance = balanceOf[wallet];
        uint256 frozenAfter = _frozenTokens[wallet] + amount;
        if (frozenAfter > balance) revert FreezeExceedsBalance(wallet, balance, frozenAfter);
        _frozenTokens[wallet] = frozenAfter;
        emit TokensFrozen(wallet, amount);
    }

    function _unfreezePartial(address wallet, uint256 amount) private {
        uint256 frozen = _frozenTokens[wallet];
        if (amount > frozen) revert UnfreezeExceedsFrozen(wallet, frozen, amount);
        _frozenTokens[wallet] = frozen - amount;
        emit TokensUnfrozen(wallet, amount);
    }

    function _moveRegistration(address lostWallet, address newWallet, address investorOnchainID) private {
        if (_identityRegistry.contains(newWallet)) {
            address existing = _identityRegistry.identity(newWallet);
            if (existing != investorOnchainID) revert RecoveryIdentityMismatch(newWallet, investorOnchainID);
        } else {
            _identityRegistry.registerIdentity(newWallet, investorOnchainID, _identityRegistry.investorCountry(lostWallet));
        }
        _identityRegistry.deleteIdentity(lostWallet);
    }

    function _moveFreezeState(address lostWallet, address newWallet) private {
        uint256 frozen = _frozenTokens[lostWallet];
        if (frozen != 0) {
            _frozenTokens[lostWallet] = 0;
            _frozenTokens[newWallet] += frozen;
            emit TokensUnfrozen(lostWallet, frozen);
            emit TokensFrozen(newWallet, frozen);
        }
        if (isFrozen[lostWallet]) {
            _setAddressFrozen(newWallet, true);
        }
    }
}
