"""``runner.data.crypto``: age keys, armored text, identities and decryption errors.

Everything is real: pyrage encryption of archives packed by ``pack``.
"""

from __future__ import annotations

import pytest
from hidden_data import fails_with, make_challenge, sha256_of
from pyrage import x25519

from runner.data import decrypt_text, encrypt_text, keygen, open_hidden
from runner.errors import DataError

# ---------------------------------------------------------------- keys and text


def test_keygen_makes_a_matching_pair(keys):
    identity, recipient = keys
    assert identity.startswith("AGE-SECRET-KEY-1") and recipient.startswith("age1")
    assert str(x25519.Identity.from_str(identity).to_public()) == recipient
    assert keygen() != keys


def test_text_round_trip_is_armored(keys):
    blob = encrypt_text('{"roc_auc": 0.91}', keys[1])
    assert blob.startswith("-----BEGIN AGE ENCRYPTED FILE-----")
    assert "0.91" not in blob
    assert decrypt_text(blob, keys[0]) == '{"roc_auc": 0.91}'
    key_file = f"# created: now\n# public key: {keys[1]}\n{keys[0]}\n"
    assert decrypt_text(blob, key_file) == '{"roc_auc": 0.91}'


def test_text_wrong_identity_and_bad_keys(keys):
    blob = encrypt_text("secret", keys[1])
    with fails_with("encrypted to other recipients"):
        decrypt_text(blob, keygen()[0])
    with fails_with("'age1nope' is not an age recipient"):
        encrypt_text("x", "age1nope")
    with fails_with("holds no age identity") as err:
        decrypt_text(blob, "not-a-key-7731")
    assert "7731" not in str(err.value)
    with fails_with("damaged, truncated or not age-encrypted"):
        decrypt_text(blob[:60] + blob[-40:], keys[0])


# ---------------------------------------------------------------- identities, decrypting


def test_identity_may_be_a_whole_key_file(packed, keys, data_cache):
    challenge, sha, _ = packed
    key_file = f"# created: x\n# public key: {keys[1]}\n{keys[0]}\n"
    assert open_hidden(challenge, cache_dir=data_cache, env={"KEY": key_file}).sha256 == sha


def test_wrong_key(packed, data_cache):
    challenge, _, _ = packed
    with pytest.raises(DataError) as err:
        open_hidden(challenge, cache_dir=data_cache, env={"KEY": keygen()[0]})
    assert str(err.value) == (
        f"{challenge.root / 'hidden.tar.age'}: cannot decrypt with the identity in environment "
        "variable KEY: it was encrypted to other recipients (wrong key); use the key it was "
        "packed for"
    )
    assert list(data_cache.iterdir()) == []


def test_key_variable_without_an_identity(packed, data_cache):
    challenge, _, _ = packed
    with fails_with("environment variable KEY holds no age identity"):
        open_hidden(challenge, cache_dir=data_cache, env={"KEY": "/home/me/key.txt"})


def test_truncated_encrypted_archive(packed, keys, data_cache):
    challenge, _, _ = packed
    path = challenge.root / "hidden.tar.age"
    path.write_bytes(path.read_bytes()[:-20])
    cut = make_challenge(
        challenge.root, source="hidden.tar.age", sha256=sha256_of(path), key_env="KEY"
    )
    with pytest.raises(DataError) as err:
        open_hidden(cut, cache_dir=data_cache, env={"KEY": keys[0]})
    assert err.value.message.startswith("cannot decrypt")
    assert "damaged or truncated" in err.value.message
    assert list(data_cache.iterdir()) == []
