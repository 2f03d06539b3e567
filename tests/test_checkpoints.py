"""Saving and loading trained networks (helpers.checkpoints)."""
import json
import warnings

import pytest
import torch

from helpers.checkpoints import load_checkpoint, save_checkpoint
from helpers.data import Normalizer, sample
from helpers.networks import PredictNoiseNet, TimeEmbeddingNet
from helpers.sampling import p_sample_loop
from helpers.schedule import cosine_schedule, linear_schedule


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    sched = linear_schedule(30)
    model = TimeEmbeddingNet(30, hidden=16, n_blocks=1, emb_dim=8)
    norm = Normalizer.fit(sample(100, generator=0))
    path = save_checkpoint(tmp_path / "net.pt", model, sched, norm, info={"epochs": 3})
    return path, model, sched, norm


def test_round_trip_restores_weights_schedule_normalizer_and_samples(saved):
    path, model, sched, norm = saved
    ck = load_checkpoint(path)
    assert type(ck.model) is TimeEmbeddingNet and ck.model.config() == model.config()
    for (k1, v1), (k2, v2) in zip(model.state_dict().items(), ck.model.state_dict().items()):
        assert k1 == k2 and torch.equal(v1, v2)
    assert torch.equal(ck.schedule.beta, sched.beta) and ck.schedule.T == 30
    assert ck.normalizer == norm and ck.prediction == "eps" and ck.info == {"epochs": 3}
    a = p_sample_loop(model, sched, 50, generator=1)
    b = p_sample_loop(ck.sampler, ck.schedule, 50, generator=1)
    assert torch.equal(a, b)


def test_file_loads_with_weights_only(saved):
    path = saved[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        payload = torch.load(path, weights_only=True)
    meta = json.loads(payload["meta"])
    assert meta["network"] == "TimeEmbeddingNet" and meta["T"] == 30


def test_saving_never_overwrites_silently(saved):
    path, model, sched, norm = saved
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_checkpoint(path, PredictNoiseNet(8), sched, norm)
    assert path.read_bytes() == before
    save_checkpoint(path, PredictNoiseNet(8), sched, norm, overwrite=True)
    assert type(load_checkpoint(path).model) is PredictNoiseNet
    assert not list(path.parent.glob("*.tmp"))  # no temporary files left behind


def test_mismatch_gives_a_clear_error(saved, tmp_path):
    path = saved[0]
    with pytest.raises(ValueError, match="holds a TimeEmbeddingNet, expected a PredictNoiseNet"):
        load_checkpoint(path, expect_network="PredictNoiseNet")
    with pytest.raises(ValueError, match="trained with T = 30, expected T = 180"):
        load_checkpoint(path, expect_T=180)
    with pytest.raises(ValueError, match="schedule"):
        load_checkpoint(path, expect_schedule=cosine_schedule(30))
    # weights that do not fit the stored config
    payload = torch.load(path, weights_only=True)
    meta = json.loads(payload["meta"])
    meta["config"]["hidden"] = 32
    payload["meta"] = json.dumps(meta)
    bad = tmp_path / "bad.pt"
    torch.save(payload, bad)
    with pytest.raises(ValueError, match="weights do not fit"):
        load_checkpoint(bad)


def test_corrupt_or_foreign_files_give_a_clear_error(saved, tmp_path):
    path = saved[0]
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        load_checkpoint(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(ValueError, match="is not a ddpm-butterfly-checkpoint file"):
        load_checkpoint(foreign)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.pt")


def test_save_rejects_bad_input(tmp_path):
    sched = linear_schedule(30)
    with pytest.raises(ValueError, match="model must be one of the networks"):
        save_checkpoint(tmp_path / "x.pt", torch.nn.Linear(2, 2), sched)
    with pytest.raises(ValueError, match="prediction must be one of"):
        save_checkpoint(tmp_path / "x.pt", PredictNoiseNet(8), sched, prediction="v")
    with pytest.raises(ValueError, match="info must be JSON"):
        save_checkpoint(tmp_path / "x.pt", PredictNoiseNet(8), sched, info={"a": object()})
    assert not (tmp_path / "x.pt").exists()


def test_train_result_round_trip_keeps_curves_and_snapshots(tmp_path):
    from helpers.train import load_result, save_result, train

    torch.manual_seed(0)
    sched = linear_schedule(30)
    data = sample(128, generator=0)
    r = train(TimeEmbeddingNet(30, hidden=16, n_blocks=1, emb_dim=8), data, sched, epochs=4, batch_size=64,
              normalizer=Normalizer.fit(data), snapshot_epochs=(2, 4), n_snapshot=20, progress=False)
    back = load_result(save_result(r, tmp_path / "r.pt"))
    assert back.history == pytest.approx(r.history, rel=1e-6)
    assert torch.allclose(back.bucket_history, r.bucket_history.float().double())
    assert sorted(back.snapshots) == [2, 4] and torch.equal(back.snapshots[4], r.snapshots[4])
    assert back.normalizer == r.normalizer and back.settings["epochs"] == 4
    x = torch.randn(5, 2)
    t = torch.full((5,), 7)
    with torch.no_grad():
        assert torch.equal(back.sampler(x, t), r.sampler(x, t))


def test_committed_checkpoints_load_and_match_the_default_run():
    from helpers.train import (ARTICLE_EPOCHS, CHECKPOINT_DIR, CHECKPOINT_NAMES, DEFAULT_N_DATA, DEFAULT_NETWORKS,
                               default_recipe, load_result)

    for name, file in CHECKPOINT_NAMES.items():
        path = CHECKPOINT_DIR / file
        assert path.stat().st_size < 400_000  # kilobytes, not megabytes
        r = load_result(path)
        assert type(r.model).__name__ == name
        cfg = r.model.config()
        assert cfg["T"] == 180 and all(cfg[k] == v for k, v in DEFAULT_NETWORKS[name].items())
        recipe = default_recipe(name)   # stale checkpoints (recipe changed, not regenerated) fail here
        assert len(r.history) == recipe["epochs"]
        assert sorted(r.snapshots) == [e for e in ARTICLE_EPOCHS if e <= recipe["epochs"]]
        assert r.settings["n_data"] == DEFAULT_N_DATA
        assert all(r.settings[k] == v for k, v in recipe.items()), (name, r.settings, recipe)
        x = p_sample_loop(r.sampler, r.schedule, 200, generator=0)
        assert torch.isfinite(x).all()


def test_make_checkpoint_refuses_to_overwrite():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    files = sorted((root / "checkpoints").glob("butterfly_*.pt"))
    before = [f.read_bytes() for f in files]
    res = subprocess.run([sys.executable, str(root / "scripts" / "make_checkpoint.py")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and "refusing to overwrite" in res.stderr and "OVERWRITE=1" in res.stderr
    assert [f.read_bytes() for f in files] == before
