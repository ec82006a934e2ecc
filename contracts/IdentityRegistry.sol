// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AgentRoles, TokenBinding} from "./AgentRoles.sol";

/// @title IdentityRegistry
/// @notice Per-token register of verified investor wallets: wallet -> identity and country.
/// @dev A registered wallet counts as verified: KYC is done off-chain by the platform, which
/// registers a wallet only after approval. The identity may be an identity contract or the
/// wallet itself. Agents (and the bound token, for wallet recovery) may write.
contract IdentityRegistry is AgentRoles, TokenBinding {
    struct Investor {
        address identity;
        uint16 country;
    }

    mapping(address => Investor) private _investors;

    event IdentityRegistered(address indexed investorAddress, address indexed identity);
    event IdentityRemoved(address indexed investorAddress, address indexed identity);
    event IdentityUpdated(address indexed oldIdentity, address indexed newIdentity);
    event CountryUpdated(address indexed investorAddress, uint16 indexed country);

    error NotAgentOrToken(address caller);
    error AlreadyRegistered(address wallet);
    error NotRegistered(address wallet);
    error ArrayLengthMismatch();

    modifier onlyAgentOrToken() {
        if (!isAgent(msg.sender) && msg.sender != getTokenBound()) revert NotAgentOrToken(msg.sender);
        _;
    }

    function registerIdentity(address wallet, address identity_, uint16 country) external onlyAgentOrToken {
        _register(wallet, identity_, country);
    }

    function batchRegisterIdentity(
        address[] calldata wallets,
        address[] calldata identities,
        uint16[] calldata countries
    ) external onlyAgentOrToken {
        if (wallets.length != identities.length || wallets.length != countries.length) {
            revert ArrayLengthMismatch();
        }
        for (uint256 i = 0; i < wallets.length; i++) {
            _register(wallets[i], identities[i], countries[i]);
        }
    }

    function deleteIdentity(address wallet) external onlyAgentOrToken {
        address oldIdentity = _registered(wallet).identity;
        delete _investors[wallet];
        emit IdentityRemoved(wallet, oldIdentity);
    }

    function updateCountry(address wallet, uint16 country) external onlyAgentOrToken {
        _registered(wallet).country = country;
        emit CountryUpdated(wallet, country);
    }

    function updateIdentity(address wallet, address identity_) external onlyAgentOrToken {
        if (identity_ == address(0)) revert ZeroAddress();
        Investor storage investor = _registered(wallet);
        address oldIdentity = investor.identity;
        investor.identity = identity_;
        emit IdentityUpdated(oldIdentity, identity_);
    }

    function isVerified(address wallet) external view returns (bool) {
        return _investors[wallet].identity != address(0);
    }

    function contains(address wallet) external view returns (bool) {
        return _investors[wallet].identity != address(0);
    }

    function identity(address wallet) external view returns (address) {
        return _investors[wallet].identity;
    }

    function investorCountry(address wallet) external view returns (uint16) {
        return _investors[wallet].country;
    }

    function _register(address wallet, address identity_, uint16 country) private {
        if (wallet == address(0) || identity_ == address(0)) revert ZeroAddress();
        if (_investors[wallet].identity != address(0)) revert AlreadyRegistered(wallet);
        _investors[wallet] = Investor(identity_, country);
        emit IdentityRegistered(wallet, identity_);
    }

    function _registered(address wallet) private view returns (Investor storage investor) {
        investor = _investors[wallet];
        if (investor.identity == address(0)) revert NotRegistered(wallet);
    }
}
