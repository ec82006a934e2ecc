// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TokenBinding} from "./AgentRoles.sol";
import {IIdentityRegistryView, IBalanceOf} from "./Interfaces.sol";

/// @title Compliance
/// @notice Transfer rules of one token: the receiver is verified, the receiver's country is not
/// restricted, and (optionally) no wallet holds more than a maximum balance and the token has no
/// more than a maximum number of holders. Holder-signed transfers are refused while the token is
/// in platform custody (holderTransfersOpen false, the default): only agents move tokens then.
/// @dev The maximum balance is per investor wallet (the platform gives each investor one
/// wallet), read from the token itself so that no shadow balance can drift. The holder count is
/// kept by the token's hooks (created, transferred, destroyed), which run after each move.
contract Compliance is TokenBinding {
    IIdentityRegistryView public immutable identityRegistry;
    mapping(uint16 => bool) private _restrictedCountries;
    uint256 public maxBalance;
    uint256 public maxHolders;
    uint256 public holderCount;
    bool public holderTransfersOpen;

    event CountryRestrictionAdded(uint16 indexed country);
    event CountryRestrictionRemoved(uint16 indexed country);
    event MaxBalanceSet(uint256 maxBalance);
    event MaxHoldersSet(uint256 maxHolders);
    event HolderTransfersSet(bool open);

    error ReceiverNotVerified(address wallet);
    error CountryRestricted(address wallet, uint16 country);
    error MaxBalanceExceeded(address wallet, uint256 balanceAfter, uint256 maxBalance);
    error MaxHoldersExceeded(address wallet, uint256 holders, uint256 maxHolders);
    error HolderTransfersClosed(address from, address to);
    error CountryAlreadyRestricted(uint16 country);
    error CountryNotRestricted(uint16 country);

    enum Refusal {
        None,
        ReceiverNotVerified,
        CountryRestricted,
        MaxBalanceExceeded,
        MaxHoldersExceeded
    }

    constructor(address identityRegistry_) {
        if (identityRegistry_ == address(0)) revert ZeroAddress();
        identityRegistry = IIdentityRegistryView(identityRegistry_);
    }

    /// @notice ERC-3643 check: true when the transfer (or mint, from = 0) passes every rule.
    function canTransfer(address from, address to, uint256 amount) external view returns (bool) {
        (Refusal refusal, , ) = _refusal(from, to, amount);
        return refusal == Refusal.None;
    }

    /// @notice Like canTransfer, but reverts with the rule that refused, for the token to bubble up.
    function checkTransfer(address from, address to, uint256 amount) public view {
        (Refusal refusal, uint16 country, uint256 balanceAfter) = _refusal(from, to, amount);
        if (refusal == Refusal.ReceiverNotVerified) revert ReceiverNotVerified(to);
        if (refusal == Refusal.CountryRestricted) revert CountryRestricted(to, country);
        if (refusal == Refusal.MaxBalanceExceeded) revert MaxBalanceExceeded(to, balanceAfter, maxBalance);
        if (refusal == Refusal.MaxHoldersExceeded) revert MaxHoldersExceeded(to, holderCount, maxHolders);
    }

    /// @notice A holder-signed transfer (transfer, transferFrom, batchTransfer): refused while the
    /// token is in platform custody, else the same rules as checkTransfer.
    function checkHolderTransfer(address from, address to, uint256 amount) external view {
        if (!holderTransfersOpen) revert HolderTransfersClosed(from, to);
        checkTransfer(from, to, amount);
    }

    // The hooks run after the token moved the tokens: they keep the holder count.
    function transferred(address from, address to, uint256 amount) external onlyBoundToken {
        if (amount == 0 || from == to) return;
        _counted(to, amount);
        _uncounted(from);
    }

    function created(address to, uint256 amount) external onlyBoundToken {
        if (amount != 0) _counted(to, amount);
    }

    function destroyed(address from, uint256 amount) external onlyBoundToken {
        if (amount != 0) _uncounted(from);
    }

    function addCountryRestriction(uint16 country) external onlyOwner {
        _restrict(country);
    }

    function removeCountryRestriction(uint16 country) external onlyOwner {
        _unrestrict(country);
    }

    function batchRestrictCountries(uint16[] calldata countries) external onlyOwner {
        for (uint256 i = 0; i < countries.length; i++) _restrict(countries[i]);
    }

    function batchUnrestrictCountries(uint16[] calldata countries) external onlyOwner {
        for (uint256 i = 0; i < countries.length; i++) _unrestrict(countries[i]);
    }

    function isCountryRestricted(uint16 country) external view returns (bool) {
        return _restrictedCountries[country];
    }

    /// @notice Sets the maximum balance of one wallet, in token base units; 0 means no limit.
    function setMaxBalance(uint256 maxBalance_) external onlyOwner {
        maxBalance = maxBalance_;
        emit MaxBalanceSet(maxBalance_);
    }

    /// @notice Sets the maximum number of wallets holding the token; 0 means no limit.
    function setMaxHolders(uint256 maxHolders_) external onlyOwner {
        maxHolders = maxHolders_;
        emit MaxHoldersSet(maxHolders_);
    }

    /// @notice Opens (true) or closes (false) holder-signed transfers; closed while the platform
    /// keeps the books of the token, so that only agents (settlement, recovery) move it.
    function setHolderTransfersOpen(bool open) external onlyOwner {
        holderTransfersOpen = open;
        emit HolderTransfersSet(open);
    }

    function _refusal(
        address from,
        address to,
        uint256 amount
    ) private view returns (Refusal refusal, uint16 country, uint256 balanceAfter) {
        if (!identityRegistry.isVerified(to)) return (Refusal.ReceiverNotVerified, 0, 0);
        country = identityRegistry.investorCountry(to);
        if (_restrictedCountries[country]) return (Refusal.CountryRestricted, country, 0);
        uint256 limit = maxBalance;
        address token = getTokenBound();
        if (limit != 0 && from != to && token != address(0)) {
            balanceAfter = IBalanceOf(token).balanceOf(to) + amount;
            if (balanceAfter > limit) return (Refusal.MaxBalanceExceeded, country, balanceAfter);
        }
        if (_newHolderOverLimit(from, to, amount, token)) return (Refusal.MaxHoldersExceeded, country, balanceAfter);
        return (Refusal.None, country, balanceAfter);
    }

    // A receiver holding nothing becomes a holder, unless the sender hands over all it holds.
    function _newHolderOverLimit(address from, address to, uint256 amount, address token) private view returns (bool) {
        if (maxHolders == 0 || amount == 0 || from == to || token == address(0)) return false;
        if (IBalanceOf(token).balanceOf(to) != 0) return false;
        if (from != address(0) && IBalanceOf(token).balanceOf(from) == amount) return false;
        return holderCount >= maxHolders;
    }

    function _counted(address to, uint256 amount) private {
        if (IBalanceOf(getTokenBound()).balanceOf(to) == amount) holderCount += 1;
    }

    function _uncounted(address from) private {
        if (IBalanceOf(getTokenBound()).balanceOf(from) == 0) holderCount -= 1;
    }

    function _restrict(uint16 country) private {
        if (_restrictedCountries[country]) revert CountryAlreadyRestricted(country);
        _restrictedCountries[country] = true;
        emit CountryRestrictionAdded(country);
    }

    function _unrestrict(uint16 country) private {
        if (!_restrictedCountries[country]) revert CountryNotRestricted(country);
        _restrictedCountries[country] = false;
        emit CountryRestrictionRemoved(country);
    }
}
