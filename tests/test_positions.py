"""lmcore.pretrained.positions: learned position tables read from a model or a weight file."""
import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from lmcore import catalog
from lmcore.errors import UserFacingError
from lmcore.pretrained import positions


def test_learned_positions_from_model_and_safetensors(tmp_path):
    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.wpe = torch.nn.Embedding(12, 4)
            self.wte = torch.nn.Embedding(30, 4)

    model = Tiny()
    assert np.array_equal(positions.learned_positions_from_model(model), model.wpe.weight.detach().numpy())
    with pytest.raises(UserFacingError):
        positions.learned_positions_from_model(torch.nn.Linear(2, 2))
    path = tmp_path / "model.safetensors"
    table = torch.randn(12, 4)
    save_file({"embeddings.token_type_embeddings.weight": torch.randn(2, 4),
               "embeddings.position_embeddings.weight": table}, str(path))
    assert np.array_equal(positions.learned_positions_from_safetensors(path), table.numpy())
    save_file({"x.weight": table}, str(path))
    with pytest.raises(UserFacingError):
        positions.learned_positions_from_safetensors(path)


def test_position_tables_of_the_bundled_models():
    files = catalog.position_table_files()
    assert all(path.name == "model.safetensors" and path.is_file() for path in files.values())
    tables = positions.position_tables(files)
    assert "tiny-gpt2" in tables and tables["tiny-gpt2"].ndim == 2
    if catalog.minilm_folder() is not None:
        assert tables["all-MiniLM-L6-v2"].shape == (512, 384)


def test_position_tables_leave_out_a_file_without_one(tmp_path):
    path = tmp_path / "model.safetensors"
    save_file({"x.weight": torch.randn(3, 2)}, str(path))
    assert positions.position_tables({"odd": path}) == {}
