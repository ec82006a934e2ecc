// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Ownable
/// @notice ERC-173 ownership: one owner who may hand the contract over.
abstract contract Ownable {
    address private _owner;

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    error NotOwner(address caller);
    error ZeroAddress();

    constructor() {
        _owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    modifier onlyOwner() {
        if (msg.sender != _owner) revert NotOwner(msg.sender);
        _;
    }

    function owner() public view returns (address) {
        return _owner;
    }

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(_owner, newOwner);
        _owner = newOwner;
    }
}

/// @title AgentRoles
/// @notice Owner-managed set of agents, the operators allowed to act on investors' behalf.
abstract contract AgentRoles is Ownable {
    mapping(address => bool) private _agents;

    event AgentAdded(address indexed agent);
    event AgentRemoved(address indexed agent);

    error NotAgent(address caller);
    error AgentAlreadyAdded(address agent);
    error AgentNotFound(address agent);

    modifier onlyAgent() {
        if (!_agents[msg.sender]) revert NotAgent(msg.sender);
        _;
    }

    function isAgent(address agent) public view returns (bool) {
        return _agents[agent];
    }

    function addAgent(address agent) external onlyOwner {
        if (agent == address(0)) revert ZeroAddress();
        if (_agents[agent]) revert AgentAlreadyAdded(agent);
        _agents[agent] = true;
        emit AgentAdded(agent);
    }

    function removeAgent(address agent) external onlyOwner {
        if (!_agents[agent]) revert AgentNotFound(agent);
        _agents[agent] = false;
        emit AgentRemoved(agent);
    }
}

/// @title TokenBinding
/// @notice The one token a per-token helper contract (registry, compliance) serves.
/// @dev The token binds itself from its constructor so that the spec's five-transaction deploy
/// needs no extra binding transaction. tx.origin is checked so that only a deployment sent by
/// this contract's owner can bind: a stranger's contract deployed in between cannot grab it.
abstract contract TokenBinding is Ownable {
    address private _boundToken;

    event TokenBound(address token);
    event TokenUnbound(address token);

    error TokenAlreadyBound(address token);
    error TokenNotBound(address token);
    error BindingRefused(address caller);
    error OnlyBoundToken(address caller);

    modifier onlyBoundToken() {
        if (msg.sender != _boundToken) revert OnlyBoundToken(msg.sender);
        _;
    }

    function getTokenBound() public view returns (address) {
        return _boundToken;
    }

    function bindToken(address token) external {
        bool ownerCall = msg.sender == owner();
        // solhint-disable-next-line avoid-tx-origin
        bool selfBindByOwnerDeploy = msg.sender == token && tx.origin == owner();
        if (!ownerCall && !selfBindByOwnerDeploy) revert BindingRefused(msg.sender);
        if (token == address(0)) revert ZeroAddress();
        if (_boundToken != address(0)) revert TokenAlreadyBound(_boundToken);
        _boundToken = token;
        emit TokenBound(token);
    }

    function unbindToken(address token) external onlyOwner {
        if (token == address(0) || token != _boundToken) revert TokenNotBound(token);
        _boundToken = address(0);
        emit TokenUnbound(token);
    }
}
