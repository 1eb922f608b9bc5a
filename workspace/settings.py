"""The one settings object. Environment variables use the BRIEFML_ prefix, except the
conventional DATABASE_URL. Only webapp/ reads st.secrets; everything else reads this."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BRIEFML_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "BRIEFML_DATABASE_URL"),
        description="Postgres URL; unset means the embedded server under `home`.",
    )
    home: Path = Field(default=Path("~/.briefml"), description="Data directory.")

    # planning
    llm: str | None = Field(default=None, description="init_chat_model string; unset = offline")
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_send_examples: bool = True
    llm_max_retries: int = Field(default=2, ge=0, le=10)
    llm_timeout_seconds: float = Field(
        default=30.0, gt=0, description="longest wait for one LLM answer; then offline"
    )

    # uploads and builds
    max_upload_mb: int = Field(default=200, ge=1)
    max_rows: int = Field(default=5_000_000, ge=1)
    max_columns: int = Field(default=2_000, ge=1)
    # checked before the work they bound (see core.tableread.LoadLimits); also read by the
    # CLI and by a bundle's predict.py under the same variable names
    max_cells: int = Field(default=50_000_000, ge=1, description="rows x columns of one table")
    max_cell_chars: int = Field(default=1_000_000, ge=1, description="characters in one value")
    max_decompressed_mb: int = Field(default=2048, ge=1, description="what a Parquet/xlsx file expands to")
    read_memory_mb: int = Field(default=4096, ge=256, description="address space of the process that parses a file")
    read_seconds: float = Field(default=600.0, gt=0, description="longest parse of one file")

    # bundle signatures (Ed25519): the key is created on first use, mode 0600
    signing_key_file: Path | None = Field(
        default=None, description="private key that signs bundles; unset = <home>/keys/bundle-signing.pem")
    trusted_keys: str = Field(
        default="", description="more public key files (PEM) whose bundles are trusted, separated by ':'")
    require_signed_bundles: bool = Field(
        default=True, description="refuse a bundle without a trusted signature (false: unsigned old bundles load)")
    # every budget (API, web form, plan editor) is bounded by these two
    min_budget_seconds: float = Field(default=1.0, gt=0)
    default_budget_seconds: float = Field(default=60.0, gt=0)
    max_budget_seconds: float = Field(default=3600.0, gt=0)
    threads: int | None = Field(
        default=None, ge=1, description="threads one training uses; unset = the cores this process may use"
    )
    max_concurrent_builds_per_project: int = Field(default=2, ge=1)
    worker_heartbeat_seconds: float = Field(default=10.0, gt=0)
    worker_stalled_seconds: float = Field(
        default=30.0, gt=0, description="no heartbeat for this long: the build's worker is gone"
    )

    # accounts
    open_signup: bool = True
    session_hours: float = Field(default=12.0, gt=0)
    login_max_failures: int = Field(default=5, ge=1)
    login_window_minutes: float = Field(default=15.0, gt=0)

    # web server
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8501, ge=1, le=65535)
    dev_mode: bool = False

    @field_validator("database_url", mode="before")
    @classmethod
    def _psycopg_driver(cls, value: str | None) -> str | None:
        if value is None or not str(value).strip():
            return None
        return re.sub(r"^(postgres|postgresql)(\+[a-z0-9]+)?://", "postgresql+psycopg://", value.strip())

    @field_validator("llm", "llm_base_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value if value and str(value).strip() else None

    @model_validator(mode="after")
    def _budget_in_bounds(self) -> Settings:
        if not self.min_budget_seconds <= self.default_budget_seconds <= self.max_budget_seconds:
            raise ValueError(
                f"BRIEFML_DEFAULT_BUDGET_SECONDS ({self.default_budget_seconds:g}) must lie between "
                f"BRIEFML_MIN_BUDGET_SECONDS ({self.min_budget_seconds:g}) and "
                f"BRIEFML_MAX_BUDGET_SECONDS ({self.max_budget_seconds:g}); change one of them.")
        return self

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser()

    @property
    def embedded_data_dir(self) -> Path:
        return self.home_dir / "pgdata"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def signing_key_path(self) -> Path:
        return (self.signing_key_file or self.home_dir / "keys" / "bundle-signing.pem").expanduser()

    @property
    def trusted_key_files(self) -> list[Path]:
        return [Path(name).expanduser() for name in self.trusted_keys.split(":") if name.strip()]

    def load_limits(self):
        """The limits on one table, as the engine's reader takes them."""
        from core.tableread import LoadLimits, MiB

        return LoadLimits(
            max_bytes=self.max_upload_bytes, max_rows=self.max_rows, max_columns=self.max_columns,
            max_cells=self.max_cells, max_cell_chars=self.max_cell_chars,
            max_decompressed_bytes=self.max_decompressed_mb * MiB,
            max_memory_bytes=self.read_memory_mb * MiB, max_seconds=self.read_seconds)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
