"""REINFORCE (Williams, 1992) on a cart-pole, after PyTorch's
examples/reinforcement_learning/reinforce.py: a policy network picks actions from a
`Categorical` distribution, and each episode's loss is -log pi(a|s) times the normalised
discounted return (the score-function gradient estimator).

    python examples/reinforce.py                      # until solved (about 500-1000 episodes)
    python examples/reinforce.py --max-episodes 100   # a short run

gym is not a dependency: `CartPole` below is the classic cart-pole of Barto, Sutton and
Anderson (1983) with gym's CartPole-v1 constants, written in plain Python (episodes end when
the pole tips past 12 degrees, the cart leaves [-2.4, 2.4] or after 500 steps; solved at a
running reward of 475).
"""

from __future__ import annotations

import argparse
import math
import random
from collections import deque
from itertools import count
from typing import Any

import autodiff as torch
import autodiff.nn as nn
import autodiff.nn.functional as F
import autodiff.optim as optim
from autodiff.distributions import Categorical


class CartPole:
    """A pole on a cart; push left (0) or right (1); reward 1 per step the pole stays up."""

    gravity, masscart, masspole, length, force_mag, tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
    theta_threshold = 12 * 2 * math.pi / 360
    x_threshold = 2.4
    max_episode_steps = 500
    reward_threshold = 475.0

    def __init__(self) -> None:
        self.random = random.Random()
        self.state = [0.0, 0.0, 0.0, 0.0]
        self.steps = 0

    def reset(self, seed: int | None = None) -> tuple[list[float], dict[str, Any]]:
        if seed is not None:
            self.random.seed(seed)
        self.state = [self.random.uniform(-0.05, 0.05) for _ in range(4)]
        self.steps = 0
        return list(self.state), {}

    def step(self, action: int) -> tuple[list[float], float, bool, bool, dict[str, Any]]:
        x, x_dot, theta, theta_dot = self.state
        force = self.force_mag if action == 1 else -self.force_mag
        total_mass = self.masspole + self.masscart
        polemass_length = self.masspole * self.length
        cos, sin = math.cos(theta), math.sin(theta)
        temp = (force + polemass_length * theta_dot ** 2 * sin) / total_mass
        theta_acc = (self.gravity * sin - cos * temp) / (
            self.length * (4.0 / 3.0 - self.masspole * cos ** 2 / total_mass))
        x_acc = temp - polemass_length * theta_acc * cos / total_mass
        # Euler integration, as gym's default
        x, x_dot = x + self.tau * x_dot, x_dot + self.tau * x_acc
        theta, theta_dot = theta + self.tau * theta_dot, theta_dot + self.tau * theta_acc
        self.state = [x, x_dot, theta, theta_dot]
        self.steps += 1
        terminated = abs(x) > self.x_threshold or abs(theta) > self.theta_threshold
        truncated = self.steps >= self.max_episode_steps
        return list(self.state), 1.0, terminated, truncated, {}


class Policy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.affine1 = nn.Linear(4, 128)
        self.dropout = nn.Dropout(p=0.6)
        self.affine2 = nn.Linear(128, 2)

        self.saved_log_probs: list[torch.Tensor] = []
        self.rewards: list[float] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.affine1(x)
        x = self.dropout(x)
        x = F.relu(x)
        action_scores = self.affine2(x)
        return F.softmax(action_scores, dim=1)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="PyTorch REINFORCE example, on autodiff")
    parser.add_argument("--gamma", type=float, default=0.99, metavar="G",
                        help="discount factor (default: 0.99)")
    parser.add_argument("--seed", type=int, default=543, metavar="N",
                        help="random seed (default: 543)")
    parser.add_argument("--log-interval", type=int, default=10, metavar="N",
                        help="interval between training status logs (default: 10)")
    parser.add_argument("--max-episodes", type=int, default=None, metavar="N",
                        help="stop after N episodes even if not solved")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or strict:1")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    env = CartPole()
    env.reset(seed=args.seed)
    torch.manual_seed(args.seed)

    policy = Policy().to(args.device)
    optimizer = optim.Adam(policy.parameters(), lr=1e-2)
    eps = torch.finfo(torch.float32).eps

    def select_action(state: list[float]) -> int:
        state_tensor = torch.tensor(state, device=args.device).unsqueeze(0)
        probs = policy(state_tensor)
        m = Categorical(probs)
        action = m.sample()
        policy.saved_log_probs.append(m.log_prob(action))
        return int(action.item())

    def finish_episode() -> float:
        R = 0.0
        policy_loss = []
        returns: deque[float] = deque()
        for r in policy.rewards[::-1]:
            R = r + args.gamma * R
            returns.appendleft(R)
        returns_tensor = torch.tensor(list(returns), device=args.device)
        returns_tensor = (returns_tensor - returns_tensor.mean()) / (returns_tensor.std() + eps)
        for log_prob, ret in zip(policy.saved_log_probs, returns_tensor):
            policy_loss.append(-log_prob * ret)
        optimizer.zero_grad()
        loss = torch.cat(policy_loss).sum()
        loss.backward()
        optimizer.step()
        del policy.rewards[:]
        del policy.saved_log_probs[:]
        return loss.item()

    running_reward = 10.0
    history: list[float] = []
    losses: list[float] = []
    solved = False
    for i_episode in count(1):
        state, _ = env.reset()
        ep_reward = 0.0
        for _ in range(10000):  # Don't infinite loop while learning
            action = select_action(state)
            state, reward, terminated, truncated, _ = env.step(action)
            policy.rewards.append(reward)
            ep_reward += reward
            if terminated or truncated:
                break

        running_reward = 0.05 * ep_reward + (1 - 0.05) * running_reward
        history.append(ep_reward)
        losses.append(finish_episode())
        if i_episode % args.log_interval == 0:
            print(f"Episode {i_episode}\tLast reward: {ep_reward:.2f}\t"
                  f"Average reward: {running_reward:.2f}")
        if running_reward > env.reward_threshold:
            print(f"Solved! Running reward is now {running_reward} and the last episode runs "
                  f"to {env.steps} time steps!")
            solved = True
            break
        if args.max_episodes is not None and i_episode >= args.max_episodes:
            break
    return {"rewards": history, "losses": losses, "running_reward": running_reward,
            "solved": solved, "policy": policy}


if __name__ == "__main__":
    main()
