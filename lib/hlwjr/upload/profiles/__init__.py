"""Security profiles (安全方案) of the platform profiles: the request signing (``auth.mode``) and
the body codec (``body.codec``) a profile YAML picks.  Adding a province is a YAML file plus, at
most, one small class here.
"""

from __future__ import annotations

from ._auth import Sm3GatewayAuth, signed_headers
from ._codecs import CODECS, JsonCodec, Sm4CbcHexCodec, body_codec
from ._signed import SignedHeadersAuth, check_signed_headers
from ._sm import gateway_key, sm3_hex, sm4_cbc_decrypt_hex, sm4_cbc_encrypt_hex

__all__ = [
    "AUTH_MODES",
    "CODECS",
    "JsonCodec",
    "SignedHeadersAuth",
    "Sm3GatewayAuth",
    "Sm4CbcHexCodec",
    "body_codec",
    "check_signed_headers",
    "gateway_key",
    "signed_headers",
    "sm3_hex",
    "sm4_cbc_decrypt_hex",
    "sm4_cbc_encrypt_hex",
]

#: ``auth.mode`` values; ``token`` is :class:`~hlwjr.upload._client.TokenAuth` (it lives with the
#: client, whose answer classification it shares), ``sm3-gateway``
#: :class:`Sm3GatewayAuth`, ``signed-headers`` :class:`SignedHeadersAuth` (a signature template).
AUTH_MODES = ("token", "sm3-gateway", "signed-headers")
