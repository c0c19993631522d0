"""Six real-world shapes of local complaint apps, written by us as DDL and a few rows.

Modelled on public apps of each family (the shapes, not their code): the native PHP
schema of DOMAIN.md §3 with and without ``updated_at``; Laravel (plural English tables,
``created_at``/``updated_at``, a ``users`` table, foreign keys); CodeIgniter 4 (``id``
keys, ``created_at``/``updated_at``/``deleted_at``, Indonesian names); Prisma on
PostgreSQL (``"Complaint"``, camelCase ``createdAt``/``updatedAt``, cuid text ids); and
Laravel with ULID ids (``CHAR(26)`` keys).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pymysql
from sqlalchemy import create_engine, text

from tests.pg import PG_PORT, pg_admin

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Shape:
    name: str
    backend: str  # "mariadb" or "postgres"
    ddl: tuple[str, ...]
    rows: tuple[str, ...]
    complaints: int  # how many complaint rows ``rows`` inserts
    responses: int  # how many response rows


NATIVE_PHP = Shape(
    "native-php-updated-at",
    "mariadb",
    (
        "CREATE TABLE masyarakat (nik CHAR(16) PRIMARY KEY, nama VARCHAR(35), "
        "username VARCHAR(25), telp VARCHAR(13))",
        "CREATE TABLE pengaduan (id_pengaduan INT AUTO_INCREMENT PRIMARY KEY, "
        "tgl_pengaduan DATE, nik CHAR(16), isi_laporan TEXT, foto VARCHAR(255), "
        "status ENUM('0','proses','selesai') NOT NULL DEFAULT '0', "
        "updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP)",
        "CREATE TABLE tanggapan (id_tanggapan INT AUTO_INCREMENT PRIMARY KEY, "
        "id_pengaduan INT NOT NULL, tgl_tanggapan DATE, tanggapan TEXT, id_petugas INT)",
    ),
    (
        "INSERT INTO masyarakat VALUES ('5103010101010001', 'Made Sudarma', 'made', '0812')",
        "INSERT INTO pengaduan (tgl_pengaduan, nik, isi_laporan, status, updated_at) VALUES "
        "('2026-03-01', '5103010101010001', 'Jalan berlubang', '0', '2026-03-01 08:00:00'), "
        "('2026-03-02', '5103010101010001', 'Lampu mati', 'selesai', '2026-03-02 09:00:00')",
        "INSERT INTO tanggapan (id_pengaduan, tgl_tanggapan, tanggapan, id_petugas) "
        "VALUES (2, '2026-03-03', 'Sudah diganti', 1)",
    ),
    2,
    1,
)

NATIVE_PHP_NO_UPDATED = Shape(
    "native-php-no-updated-at",
    "mariadb",
    (
        NATIVE_PHP.ddl[0],
        "CREATE TABLE pengaduan (id_pengaduan INT AUTO_INCREMENT PRIMARY KEY, "
        "tgl_pengaduan DATE, nik CHAR(16), judul VARCHAR(100), isi_laporan TEXT, "
        "foto VARCHAR(255), status ENUM('menunggu','proses','selesai') NOT NULL "
        "DEFAULT 'menunggu', anonim TINYINT(1) NOT NULL DEFAULT 0)",
        NATIVE_PHP.ddl[2],
    ),
    (
        NATIVE_PHP.rows[0],
        "INSERT INTO pengaduan (tgl_pengaduan, nik, judul, isi_laporan, status, anonim) VALUES "
        "('2026-03-01', '5103010101010001', 'Jalan', 'Jalan berlubang', 'menunggu', 1), "
        "('2026-03-02', '5103010101010001', 'Lampu', 'Lampu mati', 'proses', 0)",
        NATIVE_PHP.rows[2],
    ),
    2,
    1,
)

LARAVEL = Shape(
    "laravel",
    "mariadb",
    (
        "CREATE TABLE users (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, "
        "name VARCHAR(255) NOT NULL, email VARCHAR(255) NOT NULL, phone VARCHAR(20), "
        "created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL)",
        "CREATE TABLE complaints (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, "
        "user_id BIGINT UNSIGNED NOT NULL, title VARCHAR(255) NOT NULL, "
        "description TEXT NOT NULL, status VARCHAR(255) NOT NULL DEFAULT 'pending', "
        "is_anonymous TINYINT(1) NOT NULL DEFAULT 0, "
        "created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL, "
        "FOREIGN KEY (user_id) REFERENCES users(id))",
        "CREATE TABLE responses (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, "
        "complaint_id BIGINT UNSIGNED NOT NULL, user_id BIGINT UNSIGNED, body TEXT NOT NULL, "
        "created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL, "
        "FOREIGN KEY (complaint_id) REFERENCES complaints(id))",
    ),
    (
        "INSERT INTO users (name, email, phone) VALUES ('Ni Luh Ayu', 'ayu@example.com', '0813')",
        "INSERT INTO complaints (user_id, title, description, status, is_anonymous, "
        "created_at, updated_at) VALUES (1, 'Sampah', 'Sampah menumpuk', 'pending', 1, "
        "'2026-03-01 01:00:00', '2026-03-01 01:00:00'), (1, 'Banjir', 'Selokan mampet', "
        "'in_review', 0, '2026-03-02 01:00:00', '2026-03-02 02:00:00'), (1, 'Parkir', "
        "'Parkir liar', 'resolved', 0, '2026-03-03 01:00:00', '2026-03-03 05:00:00')",
        "INSERT INTO responses (complaint_id, user_id, body, created_at, updated_at) VALUES "
        "(3, 1, 'Sudah ditertibkan', '2026-03-03 05:00:00', '2026-03-03 05:00:00')",
    ),
    3,
    1,
)

CODEIGNITER = Shape(
    "codeigniter4",
    "mariadb",
    (
        "CREATE TABLE masyarakat (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, nik VARCHAR(16), "
        "nama VARCHAR(100), no_hp VARCHAR(15), email VARCHAR(100))",
        "CREATE TABLE pengaduan (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, "
        "id_masyarakat INT UNSIGNED, judul VARCHAR(150), isi TEXT, "
        "status VARCHAR(20) DEFAULT 'baru', rahasia TINYINT(1) DEFAULT 0, "
        "created_at DATETIME NULL, updated_at DATETIME NULL, deleted_at DATETIME NULL)",
        "CREATE TABLE tanggapan (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, "
        "id_pengaduan INT UNSIGNED, tanggapan TEXT, created_at DATETIME NULL, "
        "updated_at DATETIME NULL)",
    ),
    (
        "INSERT INTO masyarakat (nik, nama, no_hp, email) VALUES "
        "('5103010101010002', 'Wayan Sukerta', '0814', 'wayan@example.com')",
        "INSERT INTO pengaduan (id_masyarakat, judul, isi, status, rahasia, created_at, "
        "updated_at) VALUES (1, 'Air', 'Air PDAM mati', 'baru', 0, '2026-03-01 08:00:00', "
        "'2026-03-01 08:00:00'), (1, 'Jalan', 'Jalan rusak', 'diproses', 0, "
        "'2026-03-02 08:00:00', '2026-03-02 09:00:00'), (1, 'Pungli', "
        "'Pungutan liar di kantor desa', 'baru', 1, '2026-03-03 08:00:00', "
        "'2026-03-03 08:00:00')",
        "INSERT INTO tanggapan (id_pengaduan, tanggapan, created_at, updated_at) VALUES "
        "(2, 'Dijadwalkan', '2026-03-02 09:00:00', '2026-03-02 09:00:00')",
    ),
    3,
    1,
)

PRISMA = Shape(
    "prisma-postgres",
    "postgres",
    (
        'CREATE TABLE "User" (id TEXT PRIMARY KEY, name TEXT, email TEXT NOT NULL)',
        'CREATE TABLE "Complaint" (id TEXT PRIMARY KEY, title TEXT NOT NULL, '
        "content TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'OPEN', \"isAnonymous\" BOOLEAN "
        'NOT NULL DEFAULT false, "authorId" TEXT REFERENCES "User"(id), '
        '"createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, '
        '"updatedAt" TIMESTAMP(3) NOT NULL)',
        'CREATE TABLE "Comment" (id TEXT PRIMARY KEY, body TEXT NOT NULL, '
        '"complaintId" TEXT NOT NULL REFERENCES "Complaint"(id), '
        '"createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP)',
    ),
    (
        "INSERT INTO \"User\" VALUES ('clu1user0000', 'Komang', 'komang@example.com')",
        'INSERT INTO "Complaint" (id, title, content, status, "isAnonymous", "authorId", '
        "\"createdAt\", \"updatedAt\") VALUES ('clu1c0000001', 'Pohon', 'Pohon tumbang', "
        "'OPEN', true, 'clu1user0000', '2026-03-01 01:00:00', '2026-03-01 01:00:00'), "
        "('clu1c0000002', 'Got', 'Got tersumbat', 'CLOSED', false, 'clu1user0000', "
        "'2026-03-02 01:00:00', '2026-03-02 03:00:00')",
        'INSERT INTO "Comment" (id, body, "complaintId", "createdAt") VALUES '
        "('clu1m0000001', 'Sudah dibersihkan', 'clu1c0000002', '2026-03-02 03:00:00')",
    ),
    2,
    1,
)

ULID = Shape(
    "laravel-ulid",
    "mariadb",
    (
        "CREATE TABLE users (id CHAR(26) PRIMARY KEY, name VARCHAR(255), "
        "email VARCHAR(255), created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL)",
        "CREATE TABLE complaints (id CHAR(26) PRIMARY KEY, user_id CHAR(26), "
        "subject VARCHAR(255), body TEXT, status VARCHAR(30) DEFAULT 'submitted', "
        "created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL, "
        "FOREIGN KEY (user_id) REFERENCES users(id))",
    ),
    (
        "INSERT INTO users VALUES ('01HQ3ZK8W6Y2V1B9N5M7P0R4ST', 'Putu', 'putu@example.com', "
        "NULL, NULL)",
        "INSERT INTO complaints VALUES ('01HQ3ZM0A1B2C3D4E5F6G7H8J9', "
        "'01HQ3ZK8W6Y2V1B9N5M7P0R4ST', 'Trotoar', 'Trotoar rusak', 'submitted', "
        "'2026-03-01 01:00:00', '2026-03-01 01:00:00'), ('01HQ3ZM0A1B2C3D4E5F6G7H8JA', "
        "'01HQ3ZK8W6Y2V1B9N5M7P0R4ST', 'Drainase', 'Drainase buruk', 'done', "
        "'2026-03-02 01:00:00', '2026-03-02 02:00:00')",
    ),
    2,
    0,
)

SHAPES = (NATIVE_PHP, NATIVE_PHP_NO_UPDATED, LARAVEL, CODEIGNITER, PRISMA, ULID)


@contextmanager
def database(shape: Shape) -> Iterator[str]:
    """A fresh database holding ``shape``; its plain URL (as a user writes it)."""
    name = f"lb_sg_{uuid.uuid4().hex[:10]}"
    if shape.backend == "mariadb":
        admin = pymysql.connect(host=HOST, port=3306, user="root", autocommit=True)
        admin.cursor().execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
        driver, url = f"mysql+pymysql://root@{HOST}:3306/{name}", f"mysql://root@{HOST}:3306/{name}"
    else:
        found = pg_admin()
        assert found is not None, "PostgreSQL at 127.0.0.1:5432 is needed"
        admin_pg, user = found
        admin_pg.execute(f"CREATE DATABASE {name}")
        driver = f"postgresql+psycopg://{user}@{HOST}:{PG_PORT}/{name}"
        url = f"postgresql://{user}@{HOST}:{PG_PORT}/{name}"
    engine = create_engine(driver)
    try:
        with engine.begin() as conn:
            for statement in (*shape.ddl, *shape.rows):
                conn.execute(text(statement))
        yield url
    finally:
        engine.dispose()
        if shape.backend == "mariadb":
            admin.cursor().execute(f"DROP DATABASE IF EXISTS {name}")
            admin.close()
        else:
            admin_pg.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin_pg.close()
