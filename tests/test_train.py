"""The training loop (helpers.train)."""
import pytest
import torch

from helpers.data import Normalizer, sample
from helpers.elbo import simple_loss
from helpers.networks import PredictNoiseNet, TimeEmbeddingNet
from helpers.posterior import predict_eps_from_x0
from helpers.schedule import linear_schedule
from helpers.train import EpsFromX0, as_eps_model, train

SCHED = linear_schedule(40)
DATA = sample(256, generator=0)
NORM = Normalizer.fit(DATA)


def tiny(seed=0):
    torch.manual_seed(seed)
    return TimeEmbeddingNet(40, hidden=32, n_blocks=1, emb_dim=8)


def run(model, **kw):
    args = dict(epochs=30, batch_size=64, lr=3e-3, seed=1, device="cpu", progress=False, normalizer=NORM)
    return train(model, DATA, SCHED, **(args | kw))


def test_loss_decreases_on_a_tiny_run():
    r = run(tiny())
    first, last = sum(r.history[:3]) / 3, sum(r.history[-3:]) / 3
    assert len(r.history) == 30 and r.settings["steps"] == 30 * 4
    assert last < 0.8 * first
    # the recorded loss is the simple loss: a fresh evaluation on the data agrees in size
    x0 = NORM.encode(DATA)
    with torch.no_grad():
        fresh = float(simple_loss(r.model, SCHED, x0, generator=torch.Generator().manual_seed(0)))
    assert abs(fresh - last) < 0.5 * last


def test_per_t_buckets_cover_every_t_and_average_to_the_loss():
    r = run(tiny(), epochs=5, n_buckets=4)
    assert r.bucket_edges.tolist() == [1, 11, 21, 31, 41]
    assert r.bucket_history.shape == (5, 4) and torch.isfinite(r.bucket_history).all()
    # ε is hardest to predict at small t: the first bucket has the largest loss
    assert r.bucket_history[-1, 0] == r.bucket_history[-1].max()


def test_fixed_seeds_reproduce_exactly_and_other_seeds_differ():
    a = run(tiny(), epochs=5, snapshot_epochs=(5,), n_snapshot=50, ema=0.9)
    b = run(tiny(), epochs=5, snapshot_epochs=(5,), n_snapshot=50, ema=0.9)
    c = run(tiny(), epochs=5, seed=2)
    assert a.history == b.history and a.history != c.history
    for p, q in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(p, q)
    assert torch.equal(a.snapshots[5], b.snapshots[5])


def test_snapshots_ema_and_threads():
    before = torch.get_num_threads()
    r = run(tiny(), epochs=6, snapshot_epochs=(2, 6), n_snapshot=40, ema=0.9, threads=1)
    assert torch.get_num_threads() == before  # restored
    assert sorted(r.snapshots) == [2, 6] and r.snapshots[6].shape == (40, 2)
    # snapshots are decoded to curve units: the butterfly spans about ±3, not ±1
    assert r.snapshots[6].abs().max() > 1.5
    assert r.ema_model is not None and r.sampler is r.ema_model
    diff = sum(float((p - q).abs().sum().detach()) for p, q in zip(r.model.parameters(), r.ema_model.parameters()))
    assert diff > 0  # the average lags the raw weights


def test_x0_prediction_trains_and_converts_to_the_eps_contract():
    torch.manual_seed(0)
    r = run(PredictNoiseNet(16, T=40), epochs=3, prediction="x0")
    assert isinstance(r.sampler, EpsFromX0)
    x = torch.randn(8, 2)
    t = torch.randint(1, 41, (8,))
    with torch.no_grad():
        expect = predict_eps_from_x0(SCHED, x, t, r.model(x, t))
        assert torch.allclose(r.sampler(x, t), expect)
    # an x0-model that returns the true x0 gives back the true ε
    x0, eps = torch.randn(8, 2), torch.randn(8, 2)
    ab = SCHED.alpha_bar[t].float().unsqueeze(-1)
    x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
    oracle = EpsFromX0(lambda xt, tt: x0, SCHED)
    assert torch.allclose(oracle(x_t, t), eps, atol=1e-5)
    assert as_eps_model(r.model, SCHED, "eps") is r.model


@pytest.mark.parametrize("kw, match", [
    (dict(epochs=0), "epochs must be"),
    (dict(batch_size=1000), "batch_size must be"),
    (dict(lr=0.0), "lr must be"),
    (dict(ema=1.0), "ema must be"),
    (dict(snapshot_epochs=(31,)), "snapshot_epochs must be"),
    (dict(prediction="v"), "prediction must be one of"),
    (dict(lr_schedule="step"), "lr_schedule must be one of"),
    (dict(clip=-1.0), "clip must be"),
])
def test_bad_settings_are_rejected(kw, match):
    with pytest.raises(ValueError, match=match):
        run(tiny(), **kw)


def test_nonfinite_data_is_rejected():
    bad = DATA.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match="x0_data must contain only finite"):
        train(tiny(), bad, SCHED, epochs=1, progress=False)
