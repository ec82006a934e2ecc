// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TokenBinding} from "./AgentRoles.sol";
import {IIdentityRegistryView, IBalanceOf} from "./Interfaces.sol";

/// @title Compliance
/// @notice Transfer rules of one token: the receiver is verified, the receiver's country is not
/// restricted, and (optionally) no wallet holds more than a maximum balance.
/// @dev The maximum balance is per investor wallet (the platform gives each investor one
/// wallet), read from the token itself so that no shadow balance can drift.
contract Compliance is TokenBinding {
    IIdentityRegistryView public immutable identityRegistry;
    mapping(uint16 => bool) private _restrictedCountries;
    uint256 public maxBalance;

    event CountryRestrictionAdded(uint16 indexed country);
    event CountryRestrictionRemoved(uint16 indexed country);
    event MaxBalanceSet(uint256 maxBalance);

    error ReceiverNotVerified(address wallet);
    error CountryRestricted(address wallet, uint16 country);
    error MaxBalanceExceeded(address wallet, uint256 balanceAfter, uint256 maxBalance);
    error CountryAlreadyRestricted(uint16 country);
    error CountryNotRestricted(uint16 country);

    enum Refusal {
        None,
        ReceiverNotVerified,
        CountryRestricted,
        MaxBalanceExceeded
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
    function checkTransfer(address from, address to, uint256 amount) external view {
        (Refusal refusal, uint16 country, uint256 balanceAfter) = _refusal(from, to, amount);
        if (refusal == Refusal.ReceiverNotVerified) revert ReceiverNotVerified(to);
        if (refusal == Refusal.CountryRestricted) revert CountryRestricted(to, country);
        if (refusal == Refusal.MaxBalanceExceeded) revert MaxBalanceExceeded(to, balanceAfter, maxBalance);
    }

    // The hooks keep the ERC-3643 call pattern; the rules above need no state of their own.
    function transferred(address, address, uint256) external view onlyBoundToken {}

    function created(address, uint256) external view onlyBoundToken {}

    function destroyed(address, uint256) external view onlyBoundToken {}

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
        return (Refusal.None, country, balanceAfter);
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
