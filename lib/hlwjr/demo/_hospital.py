"""The demo hospital (演示医院): a deterministic synthetic HIS (医院信息系统) to practise on.

``generate_demo_hospital(out_dir)`` writes

* ``his.sqlite`` — a SQLite database with the tables a typical internet-hospital HIS has, named
  the way Chinese HIS vendors name things (pinyin initials: ``BRXM`` 病人姓名, ``XB`` 性别,
  ``SFZH`` 身份证号, ``KSDM`` 科室代码, ``CFBH`` 处方编号 ...) and using *local* code systems
  (sex ``M/F/U``, local department codes ``NK01``, local drug codes ``YP0001``, route ``PO/IV``...);
* ``csv/<table>.csv`` — the same tables exported as GBK CSV files, as HIS export tools do;
* ``README.txt`` — what is in there and which dirt was planted.

Everything is **synthetic test data** (演示/测试数据): the hospital is 演示互联网医院, patient
names are ``<姓>试<字>``, phone numbers start with ``1990000``, ID numbers are generated with the
GB 11643 check digit (about 3 % deliberately wrong).  The data carries realistic dirt so the
mapping and validation steps have something to find: bad ID check digits, missing required values,
impossible dates, exact duplicate rows and local codes missing from the code maps.

The same ``seed`` always yields byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from .._days import parse_day
from .._exceptions import ConfigError
from .._files import atomic_write
from .._privacy import ID_CHECK_CHARS, id_check_char

__all__ = ["DEMO_ORGAN_ID", "DEMO_ORGAN_NAME", "TABLES", "DemoHospital", "generate_demo_hospital"]

DEMO_ORGAN_ID = "12110000MB0DEM001H"  # 统一社会信用代码 (synthetic, GB 32100 check character valid)
DEMO_ORGAN_NAME = "演示互联网医院（测试数据）"
DEMO_UNIT_ID = "DEMO0000000000000001"


_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_GIVEN = "明华强军平芳娜敏静丽伟刚勇毅俊峰秀英霞燕红玲桂兰涛斌波辉鹏宇浩杰磊超琳洁婷雪梅莉"
_REGIONS = (
    "110101",
    "110102",
    "110105",
    "110106",
    "110107",
    "110108",
    "110109",
    "110111",
    "110112",
    "110113",
    "110114",
    "110115",
    "130102",
    "120101",
    "370102",
    "410102",
)

# local department code -> (name, 诊疗科目 code, 诊疗科目 name); LS99 is deliberately missing
# from the demo code map (an "unmapped local code").
DEPARTMENTS = (
    ("NK01", "呼吸内科门诊", "03.01", "呼吸内科专业"),
    ("NK02", "消化内科门诊", "03.02", "消化内科专业"),
    ("NK03", "心血管内科门诊", "03.04", "心血管内科专业"),
    ("NK05", "内分泌科门诊", "03.07", "内分泌专业"),
    ("WK01", "普通外科门诊", "04.01", "普通外科专业"),
    ("FK01", "妇科门诊", "05.01", "妇科专业"),
    ("EK01", "儿科门诊", "07", "儿科"),
    ("PF01", "皮肤科门诊", "13", "皮肤科"),
    ("ZY01", "中医内科门诊", "50.01", "内科专业"),
    ("QK01", "全科医学门诊", "02", "全科医疗科"),
    ("YJ01", "药剂科", "90", "药学专业"),
    ("LS99", "临时便民门诊", "", ""),
)

# local drug code -> (name, spec, unit, price yuan, dosage form local, route local, is_tcm)
DRUGS = (
    ("YP0001", "阿莫西林胶囊", "0.25g*24粒", "盒", 12.50, "PO"),
    ("YP0002", "头孢克肟分散片", "0.1g*6片", "盒", 28.80, "PO"),
    ("YP0003", "盐酸二甲双胍片", "0.5g*48片", "盒", 15.20, "PO"),
    ("YP0004", "苯磺酸氨氯地平片", "5mg*14片", "盒", 22.00, "PO"),
    ("YP0005", "阿托伐他汀钙片", "20mg*7片", "盒", 35.60, "PO"),
    ("YP0006", "布地奈德吸入气雾剂", "200喷", "支", 86.00, "XR"),
    ("YP0007", "莫匹罗星软膏", "5g", "支", 18.50, "WY"),
    ("YP0008", "奥美拉唑肠溶胶囊", "20mg*14粒", "盒", 19.90, "PO"),
    ("YP0009", "氯雷他定片", "10mg*6片", "盒", 16.40, "PO"),
    ("YP0010", "连花清瘟胶囊", "0.35g*24粒", "盒", 14.80, "PO"),
    ("YP0011", "复方甘草口服溶液", "100ml", "瓶", 9.60, "PO"),
    ("YP0012", "玻璃酸钠滴眼液", "5ml", "支", 42.00, "DY"),
    ("YP0013", "硝苯地平控释片", "30mg*7片", "盒", 31.20, "PO"),
    ("YP0014", "蒙脱石散", "3g*10袋", "盒", 13.70, "PO"),
)
_FREQS = ("QD", "BID", "TID", "QID", "QN", "PRN")
_DIAGNOSES = (
    ("J06.900", "急性上呼吸道感染"),
    ("J20.900", "急性支气管炎"),
    ("I10.x00", "原发性高血压"),
    ("E11.900", "2型糖尿病"),
    ("K29.700", "胃炎"),
    ("L30.900", "皮炎"),
    ("J45.900", "哮喘"),
    ("E78.500", "高脂血症"),
    ("K59.000", "便秘"),
    ("H10.900", "结膜炎"),
    ("M54.500", "腰痛"),
    ("J30.400", "变应性鼻炎"),
)
_COMPLAINTS = (
    "咳嗽三天",
    "反复头晕一月",
    "血糖控制不佳",
    "胃部不适两周",
    "皮疹伴瘙痒",
    "复诊开药",
    "血压偏高",
    "眼部干涩",
    "腰背酸痛",
    "鼻塞流涕",
)

TABLES = (
    "hospital",
    "departments",
    "staff",
    "patients",
    "consultations",
    "visits",
    "emr",
    "prescriptions",
    "prescription_lines",
    "audits",
    "dispensing",
    "settlements",
    "evaluations",
    "complaints",
)


@dataclass
class DemoHospital:
    """What ``generate_demo_hospital`` wrote: paths, tables with their row counts, planted dirt."""

    out_dir: Path
    database: Path
    csv_dir: Path
    days: list[str]
    tables: dict[str, int] = field(default_factory=dict)
    dirt: dict[str, int] = field(default_factory=dict)

    @property
    def sqlite_url(self) -> str:
        """SQLAlchemy URL of the demo HIS database (``sqlite:///...``)."""
        return f"sqlite:///{self.database.resolve()}"


_check_digit = id_check_char  # GB 11643: the one implementation, in _privacy


class _Gen:
    def __init__(self, seed: int, start: dt.date, days: int) -> None:
        self.r = random.Random(seed)
        self.start = start
        self.days = days
        self.dirt: dict[str, int] = {}
        self._seq = 0

    def note(self, what: str, n: int = 1) -> None:
        self.dirt[what] = self.dirt.get(what, 0) + n

    def name(self) -> str:
        return self.r.choice(_SURNAMES) + "试" + self.r.choice(_GIVEN)

    def phone(self) -> str:
        return "1990000" + f"{self.r.randrange(10000):04d}"

    def id_number(self, birth: dt.date, male: bool, *, bad: bool = False) -> str:
        self._seq += 1
        seq = self._seq % 500 * 2 + (1 if male else 0)
        seq = seq if seq > 0 else 2
        body = f"{self.r.choice(_REGIONS)}{birth:%Y%m%d}{seq:03d}"
        check = _check_digit(body)
        if bad:
            check = self.r.choice([c for c in ID_CHECK_CHARS if c != check])
            self.note("身份证校验位错误 (bad ID check digit)")
        return body + check

    def birth(self, lo: int = 1940, hi: int = 2005) -> dt.date:
        return dt.date(self.r.randint(lo, hi), self.r.randint(1, 12), self.r.randint(1, 28))

    def moment(self, day: dt.date, h0: int = 8, h1: int = 21) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(self.r.randint(h0, h1 - 1), self.r.randrange(60), self.r.randrange(60)))


def _fmt(ts: dt.datetime | None, style: str) -> str | None:
    if ts is None:
        return None
    return ts.strftime("%Y-%m-%d %H:%M:%S" if style == "iso" else "%Y%m%d%H%M%S")


def generate_demo_hospital(
    out_dir,
    *,
    days: int = 5,
    start: str = "2026-11-01",
    seed: int = 20261101,
    per_day: int = 64,
    csv_encoding: str = "gbk",
) -> DemoHospital:
    """Write the synthetic demo HIS (演示医院) to ``out_dir`` and return what was written.

    ``days`` business days from ``start`` (Asia/Shanghai dates); at least ``per_day`` records per
    day in every business table (网络咨询, 在线复诊, 电子病历, 处方, 处方审核, 配送/核销, 结算,
    评价, 投诉).  Deterministic for a given ``seed``.  Existing files of the demo are replaced.
    """

    out = Path(out_dir)
    start_day = parse_day(start, None, what="第一天")
    if days < 1:
        raise ConfigError("业务天数 days 至少为 1")
    if out.exists() and not out.is_dir():
        raise ConfigError("输出位置是一个已有的文件，不是目录：请给出一个目录（不存在会自动创建）", where=str(out))
    out.mkdir(mode=0o700, parents=True, exist_ok=True)  # a hospital export: patients' records, owner-only
    g = _Gen(seed, start_day, days)
    r = g.r
    t: dict[str, list[dict]] = {name: [] for name in TABLES}

    master_time = f"{start_day - dt.timedelta(days=1):%Y-%m-%d} 18:00:00"  # 主数据最后更新时间
    # ---- 机构 hospital --------------------------------------------------------------------------
    t["hospital"].append(
        {
            "JGDM": DEMO_ORGAN_ID,
            "JGMC": DEMO_ORGAN_NAME,
            "DEMC": "演示互联网医院",
            "SFPZHLWYY": "是",
            "ZYXKZDJH": "PDY00000X110000DEMO",
            "YYJB": "三级",
            "YYDC": "甲等",
            "JGLB": "A100",
            "FDDBR": g.name(),
            "ZYFZR": g.name(),
            "DZ": "北京市演示区测试路1号",
            "YZBM": "100000",
            "XZQH": "北京市东城区",
            "FZJG": "北京市卫生健康委员会",
            "PZRQ": "20240115",
            "PZWH": "京卫医〔2024〕演示1号",
            "YXQQ": "20240115",
            "YXQZ": "20290114",
            "LXDH": "010-00000000",
            "GXSJ": master_time,
        }
    )
    # ---- 科室 departments -------------------------------------------------------------------
    staff_ids: list[str] = []
    for code, name, _sc, _sn in DEPARTMENTS:
        male = r.random() < 0.5
        b = g.birth(1960, 1985)
        t["departments"].append(
            {
                "KSDM": code,
                "KSMC": name,
                "KSLB": code[:2],
                "FZRXM": g.name(),
                "FZRSFZH": g.id_number(b, male),
                "FFZRXM": g.name(),
                "FFZRSFZH": g.id_number(g.birth(1965, 1990), r.random() < 0.5),
                "KTRQ": f"{dt.date(2025, r.randint(1, 12), r.randint(1, 28)):%Y-%m-%d} 09:00:00",
                "SFKZHLW": "Y" if code != "YJ01" else "N",
                "GXSJ": master_time,
            }
        )
    clinical = [d for d in DEPARTMENTS if d[0] not in ("YJ01", "LS99")]

    # ---- 人员 staff: doctors (YS), pharmacists (YJS), nurses (HS) --------------------------------
    titles = {"YS": ("ZR", "FZR", "ZZ", "ZY"), "YJS": ("ZGYS", "FZRYS", "ZYYS"), "HS": ("ZGHS", "HS")}
    staff_by_type: dict[str, list[dict]] = {"YS": [], "YJS": [], "HS": []}
    n_staff = {"YS": 30, "YJS": 8, "HS": 6}
    for kind, n in n_staff.items():
        for _ in range(n):
            male = r.random() < 0.5
            b = g.birth(1962, 1994)
            dept = r.choice(clinical) if kind != "YJS" else DEPARTMENTS[10]
            row = {
                "YSGH": f"{kind[0]}{len(staff_ids) + 1001:05d}",
                "XM": g.name(),
                "SFZH": g.id_number(b, male),
                "XB": "M" if male else "F",
                "CSRQ": f"{b:%Y%m%d}",
                "SJHM": g.phone(),
                "RYLB": kind,
                "ZCDM": r.choice(titles[kind]),
                "KSDM": dept[0],
                "ZGZSBH": f"ZG{r.randrange(10**10):010d}",
                "ZYZSBH": f"ZY{r.randrange(10**10):010d}",
                "GZNX": r.randint(3, 30),
                "ZYDD": "北京市",
                "FZJG": "北京市卫生健康委员会",
                "FZRQ": f"{dt.date(r.randint(2005, 2020), r.randint(1, 12), r.randint(1, 28)):%Y%m%d}",
                "GXSJ": master_time,
            }
            staff_ids.append(row["YSGH"])
            staff_by_type[kind].append(row)
            t["staff"].append(row)
    doctors, pharmacists = staff_by_type["YS"], staff_by_type["YJS"]

    # ---- 患者 patients ------------------------------------------------------------------------
    n_patients = max(300, per_day * days)
    bad_ids = set(r.sample(range(n_patients), max(1, round(n_patients * 0.03))))
    for i in range(n_patients):
        male = r.random() < 0.5
        child = r.random() < 0.06
        b = g.birth(2021, 2024) if child else g.birth()
        sex = "M" if male else "F"
        if r.random() < 0.01:
            sex = "U"
        if r.random() < 0.008:
            sex = "X"  # unmapped local code
            g.note("性别本地代码未对照 (unmapped sex code X)")
        csrq = f"{b:%Y%m%d}"
        if r.random() < 0.006:
            csrq = f"{b.year}0230"  # impossible date
            g.note("不存在的日期 (impossible birth date)")
        row = {
            "BRID": f"P{i + 1:07d}",
            "BRXM": g.name(),
            "XB": sex,
            "ZJLX": "SFZ",
            "SFZH": g.id_number(b, male, bad=i in bad_ids),
            "CSRQ": csrq,
            "LXDH": g.phone(),
            "JHRXM": g.name() if child else None,
            "JHRSFZH": g.id_number(g.birth(1980, 1995), r.random() < 0.5) if child else None,
            "JHRDH": g.phone() if child else None,
            "JZKH": f"JZK{i + 1:09d}",
        }
        t["patients"].append(row)
    patients = t["patients"]

    def pat() -> dict:
        return r.choice(patients)

    def doc() -> dict:
        return r.choice(doctors)

    def fen(lo: float, hi: float) -> int:
        return int(round(r.uniform(lo, hi), 1) * 100)

    day_list = [start_day + dt.timedelta(days=i) for i in range(days)]
    consult_types = ("TW", "YY", "SP")
    pay = ("WX", "ZFB", "YL")
    for _d_i, day in enumerate(day_list):
        # ---- 网络咨询 consultations ----------------------------------------------------------
        for k in range(per_day + r.randint(2, 10)):
            p, dr = pat(), doc()
            apply = g.moment(day)
            begin = apply + dt.timedelta(minutes=r.randint(1, 30))
            end = begin + dt.timedelta(minutes=r.randint(5, 40))
            answered = r.random() > 0.05
            row = {
                "ZXID": f"ZX{day:%Y%m%d}{k + 1:04d}",
                "BRID": p["BRID"],
                "BRXM": p["BRXM"],
                "XB": p["XB"],
                "SFZH": p["SFZH"],
                "LXDH": p["LXDH"],
                "YSGH": dr["YSGH"],
                "KSDM": dr["KSDM"],
                "ZXLX": r.choice(consult_types),
                "SQSJ": _fmt(apply, "iso"),
                "KSSJ": _fmt(begin, "iso") if answered else None,
                "JSSJ": _fmt(end, "iso") if answered else None,
                "ZFQD": r.choice(pay),
                "ZXFY": fen(0, 50),
                "ZXNR": r.choice(_COMPLAINTS),
                "HFBZ": "Y" if answered else "N",
                "JJSJ": None if answered else _fmt(apply + dt.timedelta(hours=2), "iso"),
                "JJYY": None if answered else "医生超时未接诊",
                "JJLX": None if answered else "CS",
            }
            if r.random() < 0.01:
                row["KSDM"] = "LS99"
                g.note("科室本地代码未对照 (unmapped department LS99)")
            if not answered and r.random() < 0.2:
                row["JJYY"] = None
                g.note("缺少必填值 (missing refuse reason)")
            t["consultations"].append(row)
            if r.random() < 0.01:
                t["consultations"].append(dict(row))
                g.note("完全重复行 (duplicated row)")

        # ---- 在线复诊 visits + 电子病历 emr + 处方 prescriptions ------------------------------------
        for k in range(per_day + r.randint(8, 16)):
            p, dr = pat(), doc()
            apply = g.moment(day, 8, 20)
            begin = apply + dt.timedelta(minutes=r.randint(1, 20))
            end = begin + dt.timedelta(minutes=r.randint(5, 30))
            dx = r.choice(_DIAGNOSES)
            prev = r.choice(_DIAGNOSES)
            vid = f"FZ{day:%Y%m%d}{k + 1:04d}"
            end_s = _fmt(end, "compact")
            if r.random() < 0.005:
                end_s = f"{day:%Y}1131{end:%H%M%S}"  # impossible date (Nov 31)
                g.note("不存在的日期 (impossible visit end time)")
            visit = {
                "FZID": vid,
                "BRID": p["BRID"],
                "BRXM": p["BRXM"],
                "XB": p["XB"],
                "SFZH": p["SFZH"],
                "CSRQ": p["CSRQ"],
                "LXDH": p["LXDH"],
                "JHRXM": p["JHRXM"],
                "JHRSFZH": p["JHRSFZH"],
                "JHRDH": p["JHRDH"],
                "YSGH": dr["YSGH"],
                "KSDM": dr["KSDM"],
                "FZLX": r.choice(consult_types),
                "JZKH": p["JZKH"],
                "SCZD": prev[1],
                "ZDDM": dx[0],
                "ZDMC": dx[1],
                "BCZD": dx[1],
                "JBS": "既往体健" if r.random() < 0.5 else "慢性病史",
                "SQSJ": _fmt(apply, "compact"),
                "KSSJ": _fmt(begin, "compact"),
                "JSSJ": end_s,
                "ZFQD": r.choice(pay),
                "GHFY": fen(5, 60),
                "HFBZ": "Y",
                "FZSM": "1",
            }
            if r.random() < 0.015:
                visit["BCZD"] = None
                g.note("缺少必填值 (missing diagnosis)")
            t["visits"].append(visit)
            t["emr"].append(
                {
                    "BLH": f"BL{vid[2:]}",
                    "FZID": vid,
                    "YSGH": dr["YSGH"],
                    "KSDM": dr["KSDM"],
                    "JZRQ": f"{day:%Y-%m-%d}",
                    "ZS": r.choice(_COMPLAINTS),
                    "XBS": "症状持续，无加重",
                    "JWS": visit["JBS"],
                    "GMS": "无" if r.random() < 0.8 else "青霉素过敏",
                    "ZDDM": dx[0],
                    "ZDMC": dx[1],
                    "CLYJ": "按医嘱服药，不适随诊",
                    "JLSJ": _fmt(end, "iso"),
                }
            )
            if r.random() < 0.94:
                ph = r.choice(pharmacists)
                written = end - dt.timedelta(minutes=r.randint(1, 4))
                checked = written + dt.timedelta(minutes=r.randint(2, 30))
                rx = f"CF{day:%Y%m%d}{k + 1:04d}"
                kind = r.choices(("XY", "ZCY", "ZY"), (0.7, 0.25, 0.05))[0]
                lines = []
                for ln in range(r.randint(1, 4)):
                    drug = r.choice(DRUGS)
                    qty = r.randint(1, 3)
                    route = drug[5]
                    if r.random() < 0.006:
                        route = "ZZ"  # unmapped local route code
                        g.note("用法本地代码未对照 (unmapped route ZZ)")
                    lines.append(
                        {
                            "CFBH": rx,
                            "XH": ln + 1,
                            "YPDM": drug[0],
                            "YPMC": drug[1],
                            "YPGG": drug[2],
                            "BZDW": drug[3],
                            "SCCJ": "演示制药有限公司",
                            "YF": route,
                            "PC": r.choice(_FREQS),
                            "MCJL": str(r.choice((1, 2, 0.5))),
                            "JLDW": "片" if drug[3] == "盒" else "次",
                            "ZL": str(qty),
                            "ZLDW": drug[3],
                            "YYTS": r.choice((3, 5, 7, 14)),
                            "DJ": drug[4],
                            "JE": round(drug[4] * qty, 2),
                        }
                    )
                total = round(sum(x["JE"] for x in lines), 2)
                t["prescription_lines"].extend(lines)
                presc = {
                    "CFBH": rx,
                    "FZID": vid,
                    "BRID": p["BRID"],
                    "BRXM": p["BRXM"],
                    "XB": p["XB"],
                    "SFZH": p["SFZH"],
                    "CSRQ": p["CSRQ"],
                    "LXDH": p["LXDH"],
                    "JHRXM": p["JHRXM"],
                    "JHRSFZH": p["JHRSFZH"],
                    "YSGH": dr["YSGH"],
                    "KSDM": dr["KSDM"],
                    "SFYSGH": ph["YSGH"],
                    "SFSJ": _fmt(checked, "iso"),
                    "KFSJ": _fmt(written, "iso"),
                    "CFLX": kind,
                    "TS": r.randint(3, 14) if kind == "ZY" else None,
                    "YXTS": 3,
                    "FB": r.choice(("ZF", "YB")),
                    "PSFS": r.choice(("ZQ", "KD", "YD")),
                    "ZDDM": dx[0],
                    "ZDMC": dx[1],
                    "SCZD": prev[1],
                    "ZJE": total,
                    "SFZF": "1",
                    "GMS": "无",
                }
                if r.random() < 0.01:
                    presc["SFYSGH"] = None
                    g.note("缺少必填值 (missing reviewing pharmacist)")
                t["prescriptions"].append(presc)
                if r.random() < 0.01:
                    t["prescriptions"].append(dict(presc))
                    g.note("完全重复行 (duplicated row)")
                t["audits"].append(
                    {
                        "CFBH": rx,
                        "SHYSGH": ph["YSGH"],
                        "SHJG": "TG" if r.random() < 0.95 else "BTG",
                        "SHSJ": _fmt(checked, "iso"),
                        "SHYJ": None,
                    }
                )
                if t["audits"][-1]["SHJG"] == "BTG":
                    t["audits"][-1]["SHYJ"] = "用量超说明书，请核实"
                disp_time = checked + dt.timedelta(minutes=r.randint(20, 180))
                if disp_time.date() != day:
                    disp_time = dt.datetime.combine(day, dt.time(23, r.randrange(60), r.randrange(60)))
                mode = presc["PSFS"]
                t["dispensing"].append(
                    {
                        "HXID": f"HX{rx[2:]}",
                        "CFBH": rx,
                        "PSFS": mode,
                        "HXSJ": _fmt(disp_time, "iso"),
                        "PSQY": "演示物流有限公司" if mode == "KD" else "本院药房",
                        "PSR": g.name() if mode == "KD" else None,
                        "PSKSSJ": _fmt(checked + dt.timedelta(minutes=10), "iso") if mode == "KD" else None,
                        "QSSJ": _fmt(disp_time, "iso") if mode == "KD" else None,
                        "WLDH": f"SF{r.randrange(10**12):012d}" if mode == "KD" else None,
                        "PSDZ": "北京市演示区测试路1号" if mode == "KD" else None,
                        "PSF": 800 if mode == "KD" else 0,
                    }
                )
            # settlement of the visit (with drug fee when there is a prescription)
            has_rx = t["prescriptions"] and t["prescriptions"][-1]["FZID"] == vid
            drug_fen = int(round(t["prescriptions"][-1]["ZJE"] * 100)) if has_rx else 0
            total_fen = visit["GHFY"] + drug_fen
            insured = has_rx and t["prescriptions"][-1]["FB"] == "YB"
            ins_fen = int(total_fen * 0.6) if insured else 0
            t["settlements"].append(
                {
                    "JSDH": f"JS{vid[2:]}",
                    "YWID": vid,
                    "YWLX": "FZ",
                    "CFBH": t["prescriptions"][-1]["CFBH"] if has_rx else None,
                    "ZJE": total_fen,
                    "ZFJE": total_fen - ins_fen,
                    "YBJE": ins_fen,
                    "FB": "YB" if insured else "ZF",
                    "ZFQD": visit["ZFQD"],
                    "JYLSH": f"42000{r.randrange(10**15):015d}",
                    "ZFSJ": _fmt(end + dt.timedelta(minutes=1), "iso"),
                    "TFBZ": "0",
                }
            )

        # ---- 评价 evaluations ----------------------------------------------------------------
        todays_visits = [v for v in t["visits"] if v["FZID"][2:10] == f"{day:%Y%m%d}"]
        todays_consults = [c for c in t["consultations"] if c["ZXID"][2:10] == f"{day:%Y%m%d}"]
        pool = [("FZ", v["FZID"], v["YSGH"], v["KSDM"]) for v in todays_visits] + [
            (c["ZXLX"], c["ZXID"], c["YSGH"], c["KSDM"]) for c in todays_consults
        ]
        r.shuffle(pool)
        for k, (kind, bid, ysgh, ksdm) in enumerate(pool[: per_day + r.randint(2, 10)]):
            t["evaluations"].append(
                {
                    "PJID": f"PJ{day:%Y%m%d}{k + 1:04d}",
                    "YWLX": kind,
                    "YWID": bid,
                    "YSGH": ysgh,
                    "KSDM": ksdm,
                    "MYD": r.choices((5, 4, 3, 2, 1), (0.6, 0.25, 0.1, 0.03, 0.02))[0],
                    "PF": round(r.uniform(6, 10), 1),
                    "PJNR": r.choice(("医生很耐心", "回复及时", "一般", "满意")),
                    "PJR": g.name(),
                    "PJSJ": _fmt(g.moment(day, 21, 24), "iso"),
                }
            )
        # ---- 投诉 complaints -------------------------------------------------------------------
        for k in range(per_day + r.randint(1, 6)):
            kind, bid, _ysgh, ksdm = r.choice(pool)
            p = pat()
            when = g.moment(day, 8, 18)
            t["complaints"].append(
                {
                    "TSID": f"TS{day:%Y%m%d}{k + 1:04d}",
                    "YWLX": kind,
                    "YWID": bid,
                    "BRXM": p["BRXM"],
                    "LXDH": p["LXDH"],
                    "SJMS": r.choice(("候诊时间过长", "对回复内容不满意", "配送延迟", "退费咨询")),
                    "FSSJ": _fmt(when, "iso"),
                    "SJYY": "沟通不充分",
                    "CQCS": "已电话回访致歉",
                    "SHCD": "无损害",
                    "GJCS": "加强医患沟通培训",
                    "SBKS": ksdm,
                    "SBR": g.name(),
                    "SBSJ": _fmt(when + dt.timedelta(hours=2), "iso"),
                    "TSLX": r.choice(("FW", "JS", "FY")),
                    "TSQD": r.choice(("DH", "WZ", "XC")),
                    "CLJG": "已处理",
                    "CLSJ": _fmt(when + dt.timedelta(hours=3), "iso"),
                    "FKSJ": _fmt(when + dt.timedelta(hours=4), "iso"),
                }
            )

    # ---- write SQLite + GBK CSV ------------------------------------------------------------------
    # every file is written to a temporary name and renamed into place (不留半截文件)

    db = out / "his.sqlite"
    csv_dir = out / "csv"
    csv_dir.mkdir(mode=0o700, exist_ok=True)

    def write_db(tmp: Path) -> None:
        con = sqlite3.connect(tmp)  # an empty file is a new database; it keeps the file's 0600
        try:
            for name in TABLES:
                rows = t[name]
                cols = list(rows[0].keys())
                types = {c: _sql_type([x[c] for x in rows]) for c in cols}
                con.execute(f'CREATE TABLE "{name}" (' + ", ".join(f'"{c}" {types[c]}' for c in cols) + ")")
                con.executemany(
                    f'INSERT INTO "{name}" VALUES (' + ",".join("?" * len(cols)) + ")",
                    [tuple(x[c] for c in cols) for x in rows],
                )
            con.commit()
        finally:
            con.close()

    def write_csv(name: str):
        def write(tmp: Path) -> None:
            rows = t[name]
            cols = list(rows[0].keys())
            with open(tmp, "w", encoding=csv_encoding, newline="") as fh:
                w = csv.writer(fh)
                w.writerow(cols)
                w.writerows([["" if x[c] is None else x[c] for c in cols] for x in rows])

        return write

    atomic_write(db, write_db, private=True)
    for name in TABLES:
        atomic_write(csv_dir / f"{name}.csv", write_csv(name), private=True)
    result = DemoHospital(
        out_dir=out,
        database=db,
        csv_dir=csv_dir,
        days=[f"{d:%Y-%m-%d}" for d in day_list],
        tables={n: len(t[n]) for n in TABLES},
        dirt=dict(sorted(g.dirt.items())),
    )
    text = _readme(result, seed)
    atomic_write(out / "README.txt", lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return result


def _sql_type(values: list) -> str:
    vals = [v for v in values if v is not None]
    if vals and all(isinstance(v, int) for v in vals):
        return "INTEGER"
    if vals and all(isinstance(v, (int, float)) for v in vals):
        return "REAL"
    return "TEXT"


def _readme(h: DemoHospital, seed: int) -> str:
    lines = [
        f"{DEMO_ORGAN_NAME} — 演示 HIS（全部为合成测试数据，非真实患者）",
        f"seed={seed}; 业务日期 {h.days[0]} … {h.days[-1]} (Asia/Shanghai)",
        f"SQLite: {h.database.name}; GBK CSV: {h.csv_dir.name}/<表>.csv",
        "",
        "表 (tables) 与行数:",
        *[f"  {n}: {c}" for n, c in h.tables.items()],
        "",
        "故意埋入的脏数据 (planted dirt):",
        *[f"  {k}: {v}" for k, v in h.dirt.items()],
    ]
    return "\n".join(lines) + "\n"
