"""Settings read from environment variables (see README for the list)."""

import ipaddress
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")
# The staff roles (every role but enterprise): 等保三级 asks two factors of them.
STAFF_ROLES = "inspector,committee,admin,security_admin,audit_admin"
# Account settings whose default depends on BIHUAN_ENV: production follows 等保三级; dev and
# the demo county keep the demo password without expiry or a second factor.
ENVIRONMENT_DEFAULTS: dict[str, dict[str, object]] = {
    "production": {"password_max_age_days": 90, "otp_required_roles": STAFF_ROLES},
    "dev": {"password_max_age_days": 0, "otp_required_roles": ""},
}


class RewardTier(BaseModel):
    """A county's own 举报奖励 tiers (local measures); what it leaves out is the national
    default of the TIP_REWARD_* settings."""

    major_rate: float | None = Field(None, ge=0, le=1)
    major_min: int | None = Field(None, ge=0)
    major_max: int | None = Field(None, ge=0)
    general: int | None = Field(None, ge=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    # "production" refuses to start without SECRET_KEY; "dev" generates one and says so.
    environment: Literal["dev", "production"] = Field("dev", alias="BIHUAN_ENV")
    database_url: str = Field(
        f"sqlite:///{DEFAULT_DATA_DIR / 'bihuan.db'}", alias="DATABASE_URL"
    )
    media_root: Path = Field(DEFAULT_DATA_DIR / "media", alias="MEDIA_ROOT")
    secret_key: str = Field("", alias="SECRET_KEY")
    token_ttl_minutes: int = Field(8 * 60, alias="TOKEN_TTL_MINUTES", gt=0)
    # Web pages: a session ends after this long without a request (and at the latest
    # TOKEN_TTL_MINUTES after login).
    session_timeout_minutes: int = Field(120, alias="SESSION_TIMEOUT_MINUTES", gt=0)
    db_pool_size: int = Field(20, alias="DB_POOL_SIZE", gt=0)
    # A 200 MP phone JPEG is up to ~50 MB (MAX_JPEG_PIXELS).
    max_upload_bytes: int = Field(64 * 1024 * 1024, alias="MAX_UPLOAD_BYTES", gt=0)
    max_photos_per_action: int = Field(9, alias="MAX_PHOTOS_PER_ACTION", gt=0)
    max_request_bytes: int = Field(128 * 1024 * 1024, alias="MAX_REQUEST_BYTES", gt=0)
    max_image_pixels: int = Field(64_000_000, alias="MAX_IMAGE_PIXELS", gt=0)
    # A baseline JPEG is decoded at 1/8 scale, so phones' 108 and 200 MP modes fit in memory.
    max_jpeg_pixels: int = Field(200_000_000, alias="MAX_JPEG_PIXELS", gt=0)
    # Authenticity checks on evidence photos (docs/domain.md, "Evidence photos").
    photo_max_age_hours: float = Field(72, alias="PHOTO_MAX_AGE_HOURS", gt=0)
    photo_clock_skew_minutes: float = Field(10, alias="PHOTO_CLOCK_SKEW_MINUTES", ge=0)
    photo_max_distance_m: float = Field(1000, alias="PHOTO_MAX_DISTANCE_M", gt=0)
    photo_similarity_bits: int = Field(6, alias="PHOTO_SIMILARITY_BITS", ge=0, le=32)
    # Flags that refuse the action (422 naming the flag) instead of only warning.
    photo_refuse_flags: str = Field("", alias="PHOTO_REFUSE_FLAGS")
    # Supervision (双重督办): reminders this many working days before a deadline; the worker's
    # scan interval; escalation thresholds in working days overdue, per hazard level.
    remind_working_days: int = Field(2, alias="REMIND_WORKING_DAYS", ge=0)
    worker_interval_seconds: float = Field(60, alias="WORKER_INTERVAL_SECONDS", gt=0)
    escalation_general: str = Field("interview:5,listing:15", alias="ESCALATION_GENERAL")
    escalation_major: str = Field("interview:1,listing:3", alias="ESCALATION_MAJOR")
    # Webhooks: retry n waits base * 2**(n-1) seconds (at most the cap); dead after max tries.
    webhook_max_attempts: int = Field(8, alias="WEBHOOK_MAX_ATTEMPTS", gt=0, le=100)
    webhook_retry_base_seconds: float = Field(30, alias="WEBHOOK_RETRY_BASE_SECONDS", gt=0)
    webhook_retry_cap_seconds: float = Field(6 * 3600, alias="WEBHOOK_RETRY_CAP_SECONDS", gt=0)
    webhook_timeout_seconds: float = Field(10, alias="WEBHOOK_TIMEOUT_SECONDS", gt=0)
    # Webhook URLs may name only public addresses (no loopback, private, link-local, ...),
    # checked when subscribed and again at each delivery; true allows a receiver on the
    # host or the internal network (a county's own intranet system).
    webhook_allow_private: bool = Field(False, alias="WEBHOOK_ALLOW_PRIVATE")
    # Photo storage: "local" (MEDIA_ROOT) or "s3" (any S3-compatible object store).
    storage_backend: Literal["local", "s3"] = Field("local", alias="STORAGE_BACKEND")
    s3_endpoint_url: str | None = Field(None, alias="S3_ENDPOINT_URL")
    s3_bucket: str = Field("bihuan-media", alias="S3_BUCKET")
    s3_prefix: str = Field("", alias="S3_PREFIX")
    s3_region: str = Field("us-east-1", alias="S3_REGION")
    s3_access_key_id: str | None = Field(None, alias="S3_ACCESS_KEY_ID")
    s3_secret_access_key: str | None = Field(None, alias="S3_SECRET_ACCESS_KEY")
    # Unreferenced blobs younger than this are kept by `bihuan media gc` (uploads in flight).
    media_gc_grace_hours: int = Field(24, alias="MEDIA_GC_GRACE_HOURS", ge=0)
    # Idempotency-Key records are kept this long (an offline draft may wait days for a signal),
    # then deleted by `bihuan worker`.
    idempotency_key_hours: float = Field(7 * 24, alias="IDEMPOTENCY_KEY_HOURS", gt=0)
    time_zone: str = Field("Asia/Shanghai", alias="TIME_ZONE")
    # Share of verified general hazards drawn for a spot-check when the committee set none.
    default_spot_check_rate: float = Field(0.2, alias="SPOT_CHECK_RATE", ge=0, le=1)
    # Onboarding import: file size (413 above), data rows and users per file (422 above). Each
    # user costs one argon2 hash, ~0.2 s of CPU (bench/bench_onboarding.py): 200 users keep a
    # commit well under a minute on two cores.
    import_max_bytes: int = Field(10 * 1024 * 1024, alias="IMPORT_MAX_BYTES", gt=0)
    import_max_rows: int = Field(20_000, alias="IMPORT_MAX_ROWS", gt=0)
    import_max_users: int = Field(200, alias="IMPORT_MAX_USERS", gt=0)
    # 亮晒排名: the weight of each component in the township index (any non-negative numbers;
    # the index divides by the sum of the weights of the components a township has).
    ranking_weight_rectification: float = Field(0.30, alias="RANKING_WEIGHT_RECTIFICATION", ge=0)
    ranking_weight_on_time: float = Field(0.25, alias="RANKING_WEIGHT_ON_TIME", ge=0)
    ranking_weight_overdue: float = Field(0.15, alias="RANKING_WEIGHT_OVERDUE", ge=0)
    ranking_weight_spot_check: float = Field(0.15, alias="RANKING_WEIGHT_SPOT_CHECK", ge=0)
    ranking_weight_self_found: float = Field(0.15, alias="RANKING_WEIGHT_SELF_FOUND", ge=0)
    # 排查完成率 (docs/checks.md) as a sixth component; 0 leaves it out of the ranking entirely.
    ranking_weight_completion: float = Field(0.0, alias="RANKING_WEIGHT_COMPLETION", ge=0)
    # Logs: one JSON object a line ("json"), or text; default json in production.
    log_format: Literal["json", "text"] | None = Field(None, alias="LOG_FORMAT")
    # How many hosts run the app (several need shared photo storage: STORAGE_BACKEND=s3).
    app_hosts: int = Field(1, alias="APP_HOSTS", gt=0)
    # Tamper evidence (docs/integrity.md): the Ed25519 private key (PEM) that signs the audit
    # checkpoints, kept out of the database and apart from SECRET_KEY; a host that only
    # verifies may hold just the public key. Copies of each checkpoint go to the directory
    # when set (a mount the county or province keeps); the worker takes one so often.
    audit_signing_key_file: Path | None = Field(None, alias="AUDIT_SIGNING_KEY_FILE")
    audit_public_key_file: Path | None = Field(None, alias="AUDIT_PUBLIC_KEY_FILE")
    audit_checkpoint_dir: Path | None = Field(None, alias="AUDIT_CHECKPOINT_DIR")
    # A copy in the photo bucket too (<S3_PREFIX>audit/): unset, whenever STORAGE_BACKEND=s3;
    # false, never; true, always (refused without STORAGE_BACKEND=s3).
    audit_checkpoint_s3: bool | None = Field(None, alias="AUDIT_CHECKPOINT_S3")
    audit_checkpoint_hours: float = Field(24, alias="AUDIT_CHECKPOINT_HOURS", gt=0)
    # The security audit log (docs/audit.md): entries are kept at least this many days;
    # `bihuan audit purge` deletes only older ones. 180 is the Cybersecurity Law's minimum
    # (art. 21: network logs kept no less than six months), so a lower value is refused.
    audit_retention_days: int = Field(180, alias="AUDIT_RETENTION_DAYS", ge=180, le=36500)
    # The reverse proxies (IP addresses or CIDR networks, comma-separated) whose
    # X-Forwarded-For and X-Forwarded-Proto are believed (docs/deploy.md). Empty: nobody's,
    # the source address is the connecting peer's (a client cannot forge its address).
    trusted_proxies: str = Field("", alias="TRUSTED_PROXIES", max_length=2000)
    # 国密 (密评): "gm" chains with SM3, signs checkpoints with HMAC-SM3 and encrypts personal
    # data with SM4-GCM (app/core/crypto.py, docs/integrity.md). Its keys are files (hex, mode
    # 0600) kept out of the database: the personal data key (SM4 and the blind index are
    # derived from it) and the checkpoints' HMAC-SM3 key (`bihuan crypto keygen PATH`).
    crypto_profile: Literal["default", "gm"] = Field("default", alias="CRYPTO_PROFILE")
    personal_data_key_file: Path | None = Field(None, alias="PERSONAL_DATA_KEY_FILE")
    audit_hmac_key_file: Path | None = Field(None, alias="AUDIT_HMAC_KEY_FILE")
    login_max_failures: int = Field(5, alias="LOGIN_MAX_FAILURES", gt=0)
    login_window_minutes: int = Field(15, alias="LOGIN_WINDOW_MINUTES", gt=0)
    login_lock_minutes: int = Field(15, alias="LOGIN_LOCK_MINUTES", gt=0)
    # Accounts (docs/accounts.md). Unset, each takes its environment's default
    # (ENVIRONMENT_DEFAULTS): a password expires after so many days (0: never), and the roles
    # named (comma-separated role values) must log in with a second factor.
    password_max_age_days: int | None = Field(None, alias="PASSWORD_MAX_AGE_DAYS", ge=0,
                                              le=3650)
    otp_required_roles: str | None = Field(None, alias="OTP_REQUIRED_ROLES", max_length=200)
    # Public tips (群众举报, docs/tips.md): tips accepted per source address in a sliding
    # window (429 with Retry-After beyond), handling due this many days after receipt.
    tip_rate_limit: int = Field(5, alias="TIP_RATE_LIMIT", gt=0)
    tip_rate_window_minutes: int = Field(60, alias="TIP_RATE_WINDOW_MINUTES", gt=0)
    tip_due_days: int = Field(60, alias="TIP_DUE_DAYS", gt=0)
    # The worker reminds the committee this many days before an untriaged tip falls due.
    tip_remind_days: int = Field(7, alias="TIP_REMIND_DAYS", ge=0)
    # 举报奖励 (2018 national measures; local tiers configurable): a major hazard or violation
    # earns this share of the fine within [min, max] 元; a general hazard a fixed amount; the
    # tipster claims within the window.
    tip_reward_major_rate: float = Field(0.15, alias="TIP_REWARD_MAJOR_RATE", ge=0, le=1)
    tip_reward_major_min: int = Field(3000, alias="TIP_REWARD_MAJOR_MIN", ge=0)
    tip_reward_major_max: int = Field(300_000, alias="TIP_REWARD_MAJOR_MAX", ge=0)
    tip_reward_general: int = Field(500, alias="TIP_REWARD_GENERAL", ge=0)
    tip_reward_claim_days: int = Field(60, alias="TIP_REWARD_CLAIM_DAYS", gt=0)
    # Per county (its 12-digit region code), as JSON: {"339901000000": {"general": 800}}.
    tip_reward_counties: dict[str, RewardTier] = Field({}, alias="TIP_REWARD_COUNTIES")

    secret_key_generated: bool = False

    @model_validator(mode="after")
    def _secret_key_present(self) -> "Settings":
        if self.secret_key:
            return self
        if self.environment == "production":
            raise ValueError("SECRET_KEY must be set when BIHUAN_ENV=production")
        self.secret_key = secrets.token_urlsafe(48)
        self.secret_key_generated = True
        return self

    @model_validator(mode="after")
    def _environment_defaults(self) -> "Settings":
        for name, value in ENVIRONMENT_DEFAULTS[self.environment].items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        return self

    @property
    def otp_required_role_names(self) -> frozenset[str]:
        """The role values OTP_REQUIRED_ROLES names (app/access/roles.py compares them)."""
        return frozenset(name.strip() for name in (self.otp_required_roles or "").split(",")
                         if name.strip())

    @model_validator(mode="after")
    def _ranking_weights_positive(self) -> "Settings":
        if sum(self.ranking_weights().values()) <= 0:
            raise ValueError("at least one RANKING_WEIGHT_* must be positive")
        return self

    @model_validator(mode="after")
    def _trusted_proxies_are_addresses(self) -> "Settings":
        for entry in self.proxy_networks():
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as error:
                raise ValueError(f"TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR "
                                 "network") from error
        return self

    def proxy_networks(self) -> list[str]:
        """TRUSTED_PROXIES as a list (for uvicorn's ProxyHeadersMiddleware)."""
        return [entry.strip() for entry in self.trusted_proxies.split(",") if entry.strip()]

    def ranking_weights(self) -> dict[str, float]:
        """The township ranking's component weights, by component name."""
        return {"rectification": self.ranking_weight_rectification,
                "on_time": self.ranking_weight_on_time,
                "overdue": self.ranking_weight_overdue,
                "spot_check": self.ranking_weight_spot_check,
                "self_found": self.ranking_weight_self_found,
                # Only when weighted: with 0 the response is what it was without it.
                **({"completion": self.ranking_weight_completion}
                   if self.ranking_weight_completion > 0 else {})}

    @property
    def logs_as(self) -> Literal["json", "text"]:
        if self.log_format:
            return self.log_format
        return "json" if self.environment == "production" else "text"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()


MIN_SECRET_KEY_LENGTH = 32


def production_problems() -> list[str]:
    """Why the environment's settings are unsafe for production (empty: none found);
    `bihuan check-config` prints them all at once. Read afresh (not the cached settings) and
    as in development, so that a missing SECRET_KEY is named with the rest, not refused."""
    environment = os.environ.get("BIHUAN_ENV", "dev")
    # The account settings left unset are judged by their production defaults (the ones a
    # production start would take), not by dev's.
    defaults = {name.upper(): value for name, value in
                ENVIRONMENT_DEFAULTS["production"].items() if name.upper() not in os.environ}
    try:
        settings = Settings(BIHUAN_ENV="dev", **defaults)  # type: ignore[arg-type]
    except ValueError as error:
        return [f"设置无效：{error}"]
    problems = []
    if environment != "production":
        problems.append("BIHUAN_ENV 不是 production：开发模式在缺少 SECRET_KEY 时临时生成密钥，"
                        "重启后所有登录失效")
    if settings.secret_key_generated or len(settings.secret_key) < MIN_SECRET_KEY_LENGTH:
        problems.append(f"SECRET_KEY 未设置或过短（至少 {MIN_SECRET_KEY_LENGTH} 个字符）：令牌和"
                        "页面会话以它签名")
    if settings.is_sqlite:
        problems.append("DATABASE_URL 指向 SQLite：生产环境请使用 PostgreSQL（SQLite 同一时刻只能"
                        "有一个写入，且无法由多台主机共享）")
    if settings.storage_backend == "local" and settings.app_hosts > 1:
        problems.append(f"APP_HOSTS={settings.app_hosts} 但 STORAGE_BACKEND=local：各主机的本地磁盘"
                        "互不相通，照片须存于 S3 兼容存储（STORAGE_BACKEND=s3）")
    if settings.storage_backend == "s3" and not settings.s3_bucket:
        problems.append("STORAGE_BACKEND=s3 但未设置 S3_BUCKET")
    problems += gm_problems(settings)
    if settings.audit_checkpoint_s3 and settings.storage_backend != "s3":
        problems.append("AUDIT_CHECKPOINT_S3=true 但 STORAGE_BACKEND 不是 s3：审计检查点的副本"
                        "无处可存（改用 AUDIT_CHECKPOINT_DIR，或把照片存于 S3）")
    if not settings.password_max_age_days:
        problems.append("PASSWORD_MAX_AGE_DAYS=0：密码永不过期（等保三级要求定期更换密码，"
                        "生产环境默认 90 天）")
    missing = sorted(set(STAFF_ROLES.split(",")) - settings.otp_required_role_names)
    if missing:
        problems.append(f"OTP_REQUIRED_ROLES 未包含 {', '.join(missing)}：这些工作人员角色"
                        "登录时无需第二因素（等保三级要求双因素认证）")
    return problems


def gm_problems(settings: Settings) -> list[str]:
    """What CRYPTO_PROFILE=gm lacks: its two key files (the database's side, chains written
    under another profile or data under another key, is services/crypto/state.py's)."""
    if settings.crypto_profile != "gm":
        return []
    problems = []
    if settings.personal_data_key_file is None:
        problems.append("CRYPTO_PROFILE=gm 但未设置 PERSONAL_DATA_KEY_FILE：手机号等个人信息须以 "
                        "SM4 加密存储（`bihuan crypto keygen PATH` 生成密钥文件）")
    if settings.audit_hmac_key_file is None:
        problems.append("CRYPTO_PROFILE=gm 但未设置 AUDIT_HMAC_KEY_FILE：审计检查点须以 HMAC-SM3 "
                        "签名（`bihuan crypto keygen PATH` 生成密钥文件）")
    for setting, path in (("PERSONAL_DATA_KEY_FILE", settings.personal_data_key_file),
                          ("AUDIT_HMAC_KEY_FILE", settings.audit_hmac_key_file)):
        if path is not None and not path.is_file():
            problems.append(f"{setting}={path} 不是可读的文件")
    return problems
