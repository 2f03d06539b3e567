"""Noise networks ε_θ(x_t, t).

Every network here follows one contract: ``model(x_t, t)`` takes points of shape
``(n, 2)`` (float) and timesteps ``t`` of shape ``(n,)`` (long, the paper's 1..T) and
returns predicted noise of shape ``(n, 2)``. ``model.config()`` returns the keyword
arguments that rebuild it, so a checkpoint can carry it (see ``build_network``).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ._checks import check_int, check_points, check_timesteps


_T_UNKNOWN = 10**9  # upper bound on t for a PredictNoiseNet built without T


def _check_inputs(x: torch.Tensor, t: torch.Tensor, T: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The model contract: x float (n, 2), finite; t integers of shape (n,) in the paper's 1..T."""
    x = check_points("x", x)
    t = check_timesteps("t", t, x.shape[0], T if T is not None else _T_UNKNOWN, lo=1, device=x.device)
    return x, t


class PredictNoiseNet(nn.Module):
    """The article's network, as written: a 128-unit ReLU MLP on x, with the raw step
    index t (a float, 1..T) added after each of the three hidden layers through its own
    ``Linear(1, 128)``."""

    def __init__(self, num_units: int = 128, T: int | None = None):
        super().__init__()
        self.num_units = check_int("num_units", num_units, 1)
        self.T = None if T is None else check_int("T", T, 1)
        self.x_embeddings = nn.ModuleList(
            [
                nn.Linear(2, num_units),
                nn.ReLU(),
                nn.Linear(num_units, num_units),
                nn.ReLU(),
                nn.Linear(num_units, num_units),
                nn.ReLU(),
                nn.Linear(num_units, 2),
            ]
        )
        self.t_embeddings = nn.ModuleList(
            [
                nn.Linear(1, num_units),
                nn.Linear(1, num_units),
                nn.Linear(1, num_units),
            ]
        )

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        x, t = _check_inputs(x, t, self.T)
        t = t.to(x.dtype).unsqueeze(-1)  # the raw step index, as the article feeds it
        for idx, embedding_layer in enumerate(self.t_embeddings):
            t_embedding = embedding_layer(t)
            x = self.x_embeddings[2 * idx](x)
            x = x + t_embedding
            x = self.x_embeddings[2 * idx + 1](x)
        return self.x_embeddings[-1](x)

    def config(self) -> dict:
        return {"num_units": self.num_units, "T": self.T}


def sinusoidal_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Transformer-style features [sin(t·ω_k), cos(t·ω_k)], ω_k = max_period^(−k/(dim/2)).

    ``t`` is a float tensor of shape ``(n,)``; returns ``(n, dim)``.
    """
    if not isinstance(t, torch.Tensor) or t.ndim != 1 or not t.is_floating_point():
        raise ValueError(f"t must be a float tensor of shape (n,), got "
                         f"{getattr(t, 'dtype', type(t).__name__)} {tuple(getattr(t, 'shape', ()))}")
    dim = check_int("dim", dim, 2)
    if dim % 2:
        raise ValueError(f"dim must be even, got {dim}")
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=t.dtype, device=t.device) / half)
    angles = t.unsqueeze(-1) * freqs
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


class ResidualBlock(nn.Module):
    """h ← h + W₂ σ(W₁ σ(LayerNorm h) + time embedding)."""

    def __init__(self, hidden: int, emb_dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(hidden)
        self.fc1 = nn.Linear(hidden, hidden)
        self.temb = nn.Linear(emb_dim, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.act = nn.SiLU()

    def forward(self, h: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        z = self.fc1(self.act(self.norm(h))) + self.temb(emb)
        return h + self.fc2(self.act(z))


class TimeEmbeddingNet(nn.Module):
    """A better ε_θ for this data: sinusoidal embedding of t/T, residual MLP blocks.

    The time signal is bounded and smooth in t (the raw index reaches 180 and a Linear
    of it is only a ramp); residual blocks keep gradients healthy. ``fourier > 0`` adds
    sin/cos features of x at ``fourier`` octaves (π, 2π, 4π, …), see :meth:`input_features`.
    The defaults (width 32, 6 octaves) are the network notebook 05 trains: measured in
    benchmarks/bench_training.py as the fastest to reach the course's quality target.
    """

    def __init__(self, T: int, hidden: int = 32, n_blocks: int = 3, emb_dim: int = 32,
                 fourier: int = 6):
        super().__init__()
        self.T = check_int("T", T, 1)
        self.fourier = check_int("fourier", fourier, 0, 16)
        self.hidden = check_int("hidden", hidden, 1)
        self.n_blocks = check_int("n_blocks", n_blocks, 1)
        self.emb_dim = check_int("emb_dim", emb_dim, 2)
        if emb_dim % 2:
            raise ValueError(f"emb_dim must be even, got {emb_dim}")
        self.time_mlp = nn.Sequential(nn.Linear(emb_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.inp = nn.Linear(2 + 4 * self.fourier, hidden)
        self.register_buffer("freqs", math.pi * 2.0 ** torch.arange(self.fourier, dtype=torch.float32),
                             persistent=False)
        self.blocks = nn.ModuleList(ResidualBlock(hidden, emb_dim) for _ in range(n_blocks))
        self.out = nn.Sequential(nn.LayerNorm(hidden), nn.SiLU(), nn.Linear(hidden, 2))

    def time_features(self, t: torch.Tensor) -> torch.Tensor:
        """The sinusoidal features of t (before the small MLP), shape ``(n, emb_dim)``: t is
        rescaled to 1000·t/T so that any T spans the frequencies the way Ho et al.'s T = 1000 does."""
        if not isinstance(t, torch.Tensor) or t.ndim != 1 or t.is_complex() or t.dtype == torch.bool:
            raise ValueError(f"t must be a 1-D tensor of timesteps, got {getattr(t, 'shape', type(t).__name__)}")
        return sinusoidal_embedding(t.to(torch.get_default_dtype()) / self.T * 1000.0, self.emb_dim)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        x, t = _check_inputs(x, t, self.T)
        emb = self.time_mlp(self.time_features(t).to(x.dtype))
        h = self.inp(self.input_features(x))
        for block in self.blocks:
            h = block(h, emb)
        return self.out(h)

    def input_features(self, x: torch.Tensor) -> torch.Tensor:
        """[x, sin(π 2^k x), cos(π 2^k x) for k < fourier] (Tancik et al. 2020): with them a
        small MLP can follow the thin curve, which it struggles to do from x alone."""
        if not self.fourier:
            return x
        angles = (x.unsqueeze(-1) * self.freqs.to(x.dtype)).flatten(1)
        return torch.cat([x, torch.sin(angles), torch.cos(angles)], dim=-1)

    def config(self) -> dict:
        config = {"T": self.T, "hidden": self.hidden, "n_blocks": self.n_blocks, "emb_dim": self.emb_dim}
        if self.fourier:  # only when used, so configs saved before the option still match
            config["fourier"] = self.fourier
        return config


NETWORKS: dict[str, type[nn.Module]] = {
    "PredictNoiseNet": PredictNoiseNet,
    "TimeEmbeddingNet": TimeEmbeddingNet,
}


def build_network(name: str, **config) -> nn.Module:
    """Rebuild a network from its class name and ``config()``."""
    if name not in NETWORKS:
        raise ValueError(f"name must be one of {sorted(NETWORKS)}, got {name!r}")
    try:
        return NETWORKS[name](**config)
    except TypeError as err:
        raise ValueError(f"config does not fit {name}: {err}") from err


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
