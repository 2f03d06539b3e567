"""The two noise networks: the article's PredictNoiseNet (checked against the article's code) and
TimeEmbeddingNet; both follow the model contract model(x_t (n,2), t (n,) long) -> (n,2)."""
import math

import pytest
import torch
from torch import nn

from helpers.networks import (NETWORKS, PredictNoiseNet, TimeEmbeddingNet, build_network, count_parameters,
                              sinusoidal_embedding)


class ArticleNet(nn.Module):
    """The article's class, copied verbatim (only `super()` shortened); t is a float column."""

    def __init__(self, num_units=128):
        super().__init__()
        self.x_embeddings = nn.ModuleList([
            nn.Linear(2, num_units), nn.ReLU(), nn.Linear(num_units, num_units), nn.ReLU(),
            nn.Linear(num_units, num_units), nn.ReLU(), nn.Linear(num_units, 2)])
        self.t_embeddings = nn.ModuleList([nn.Linear(1, num_units), nn.Linear(1, num_units), nn.Linear(1, num_units)])

    def forward(self, x, t):
        for idx, embedding_layer in enumerate(self.t_embeddings):
            t_embedding = embedding_layer(t)
            x = self.x_embeddings[2 * idx](x)
            x += t_embedding
            x = self.x_embeddings[2 * idx + 1](x)
        x = self.x_embeddings[-1](x)
        return x


def test_predict_noise_net_is_the_articles_network():
    torch.manual_seed(0)
    ours, article = PredictNoiseNet(), ArticleNet()
    article.load_state_dict(ours.state_dict())      # same parameter names and shapes
    x, t = torch.randn(50, 2), torch.randint(1, 181, (50,))
    with torch.no_grad():
        assert torch.allclose(ours(x, t), article(x, t.float().unsqueeze(-1)), atol=1e-5)


def test_parameter_counts():
    assert count_parameters(PredictNoiseNet()) == 34434
    h = 64
    assert count_parameters(PredictNoiseNet(h)) == 3 * h + 2 * (h * h + h) + 2 * h + 2 + 3 * 2 * h


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_model_contract_and_rebuild(name):
    torch.manual_seed(1)
    net = build_network(name, T=180)
    x, t = torch.randn(7, 2), torch.tensor([1, 2, 3, 60, 120, 179, 180])
    out = net(x, t)
    assert out.shape == (7, 2) and out.dtype == torch.float32
    # per-point t: row i equals a batch of one at t_i
    for i in (0, 4, 6):
        assert torch.allclose(out[i], net(x[i:i + 1], t[i:i + 1])[0], atol=1e-6)
    twin = build_network(name, **net.config())
    twin.load_state_dict(net.state_dict())
    assert torch.allclose(twin(x, t), out)


def test_time_embedding_net_output_is_order_one_at_init():
    # The point of the better net: a bounded time signal, so the untrained output does not
    # grow with t (PredictNoiseNet's does, roughly linearly).
    torch.manual_seed(2)
    x = torch.randn(256, 2)
    better, article = TimeEmbeddingNet(T=180), PredictNoiseNet(T=180)
    with torch.no_grad():
        b = [float(better(x, torch.full((256,), t)).norm(dim=1).mean()) for t in (1, 90, 180)]
        a = [float(article(x, torch.full((256,), t)).norm(dim=1).mean()) for t in (1, 90, 180)]
    assert max(b) < 5 and max(b) / min(b) < 3
    assert a[2] > 10 * a[0]


def test_sinusoidal_embedding():
    t = torch.tensor([0.0, 1.0, 500.0])
    e = sinusoidal_embedding(t, 8)
    assert e.shape == (3, 8) and e.abs().max() <= 1
    assert torch.allclose(e[0], torch.tensor([0.0] * 4 + [1.0] * 4))
    assert torch.allclose(e[:, :4].pow(2) + e[:, 4:].pow(2), torch.ones(3, 4))  # sin² + cos² = 1
    # hand value: dim 4 → ω = (1, 10000^(−1/2) = 0.01), so t = 500 gives sin 500, sin 5, cos 500, cos 5
    t500 = torch.tensor([500.0], dtype=torch.float64)
    want = torch.tensor([[math.sin(500), math.sin(5), math.cos(500), math.cos(5)]], dtype=torch.float64)
    assert torch.allclose(sinusoidal_embedding(t500, 4), want, atol=1e-12)


def test_time_features_are_the_embedding_of_1000_t_over_T():
    net = TimeEmbeddingNet(T=90, emb_dim=8)
    t = torch.tensor([1, 45, 90])
    assert torch.allclose(net.time_features(t), sinusoidal_embedding(torch.tensor([1000 / 90, 500.0, 1000.0]), 8))
    # forward uses exactly these features: replacing them changes the output
    x = torch.randn(3, 2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ref = net(x, t)
        net.time_features = lambda tt: torch.zeros(len(tt), 8)
        assert not torch.allclose(net(x, t), ref)


def test_gradients_flow():
    for net in (PredictNoiseNet(T=180), TimeEmbeddingNet(T=180)):
        net(torch.randn(16, 2), torch.randint(1, 181, (16,))).pow(2).mean().backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())


def test_bad_input_raises():
    net = TimeEmbeddingNet(T=180)
    with pytest.raises(ValueError, match="x"):
        net(torch.zeros(4, 3), torch.ones(4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"t must be in \[1, 180\]"):
        net(torch.zeros(4, 2), torch.full((4,), 181))
    for model in (net, PredictNoiseNet(T=180), PredictNoiseNet()):   # t = 0 is x_0 itself: no noise to predict
        with pytest.raises(ValueError, match=r"t must be in \[1, "):
            model(torch.zeros(4, 2), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="t must be a float tensor"):
        sinusoidal_embedding(torch.arange(3), 8)
    with pytest.raises(ValueError, match="t"):
        net(torch.zeros(4, 2), torch.ones(3, dtype=torch.long))
    with pytest.raises(ValueError, match="t"):
        net(torch.zeros(4, 2), torch.ones(4))               # float t
    with pytest.raises(ValueError, match="finite"):
        PredictNoiseNet()(torch.full((2, 2), float("nan")), torch.ones(2, dtype=torch.long))
    with pytest.raises(ValueError, match="emb_dim"):
        TimeEmbeddingNet(T=180, emb_dim=7)
    with pytest.raises(ValueError, match="name"):
        build_network("UNet")
    with pytest.raises(ValueError, match="config"):
        build_network("PredictNoiseNet", hidden=3)
