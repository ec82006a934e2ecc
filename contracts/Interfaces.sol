// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice What the token and the compliance read from, or write to, the identity registry.
interface IIdentityRegistryView {
    function isVerified(address wallet) external view returns (bool);
    function contains(address wallet) external view returns (bool);
    function identity(address wallet) external view returns (address);
    function investorCountry(address wallet) external view returns (uint16);
    function registerIdentity(address wallet, address identity_, uint16 country) external;
    function deleteIdentity(address wallet) external;
    function bindToken(address token) external;
}

/// @notice What the token asks of its compliance contract.
interface ICompliance {
    function checkTransfer(address from, address to, uint256 amount) external view;
    function checkHolderTransfer(address from, address to, uint256 amount) external view;
    function transferred(address from, address to, uint256 amount) external;
    function created(address to, uint256 amount) external;
    function destroyed(address from, uint256 amount) external;
    function bindToken(address token) external;
}

/// @notice The token balance the compliance needs for its maximum-balance rule.
interface IBalanceOf {
    function balanceOf(address wallet) external view returns (uint256);
}
