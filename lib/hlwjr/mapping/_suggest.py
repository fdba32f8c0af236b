"""Suggestions for the mapping (对照建议): which source column fills which spec field, and which
standard code each local value maps to.

``suggest_fields(dataset, source)`` ranks the source columns for every spec field.  It compares
the column name with many spellings of the field —

* the field key (``patientCertID`` → ``patient cert id``) and its aliases in the spec;
* the Chinese name (``患者证件号``), its pinyin initials (``HZZJH``) and full pinyin
  (``huanzhezhengjianhao``), computed with pypinyin;
* a synonym list of HIS naming habits (``BRXM``/``HZXM``/``XM`` 姓名, ``SFZH``/``ZJHM`` 证件号,
  ``XB`` 性别, ``CFBH``/``CFH`` 处方号, ``KSDM``/``KSBM`` 科室代码 …), including joined-table
  prefixes (``ys.SFZH`` = 医生 + 身份证号);

with rapidfuzz similarity, and then looks at the **values** (from a profile): an ID-card-looking
column for a certificate-number field, 11-digit mobiles for a phone field, dates for date fields,
amounts for fee fields.  Every candidate comes with a score (0–1) and the reasons.

``suggest_codes(code_set, local_values)`` proposes local value → standard code
(``男``/``男性``/``M``/``1`` → ``1``).  Suggestions are never accepted automatically: rules made
from them carry review status ``suggested``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import pandas as pd

from ._valuefit import distinct_values, fit_adjust

__all__ = [
    "SYNONYMS",
    "Candidate",
    "FieldSuggestion",
    "suggest_business_time",
    "suggest_code_map",
    "suggest_codes",
    "suggest_dataset_mapping",
    "suggest_fields",
    "top1_accuracy",
]


@dataclass
class Candidate:
    """A source column proposed for a field, with its score (0–1) and why (理由)."""

    column: str
    score: float
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"column": self.column, "score": round(self.score, 3), "reasons": list(self.reasons)}


@dataclass
class FieldSuggestion:
    """The ranked candidates for one spec field."""

    field: str
    name: str
    type: str
    required: bool | str
    candidates: list[Candidate]
    code_set: str | None = None

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    def to_dict(self) -> dict:
        return {
            "field": self.field,
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "code_set": self.code_set,
            "candidates": [c.to_dict() for c in self.candidates],
        }


# HIS naming habits (命名习惯): concept → (field-key regex, Chinese terms, column spellings).
# Column spellings are compared case-insensitively without "_", "-" and spaces.
SYNONYMS: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = [
    (
        "patient_name",
        r"^(patient)?name$|^patientname$",
        ("患者姓名", "病人姓名", "姓名"),
        (
            "BRXM",
            "HZXM",
            "XM",
            "BRMC",
            "HZMC",
            "PATIENTNAME",
            "PATNAME",
            "PNAME",
            "NAME",
            "BRXINGMING",
            "HZXINGMING",
            "XINGMING",
            "BINGRENXINGMING",
        ),
    ),
    (
        "patient_cert",
        r"^patient(cert|idcard)(id|num|no)?$|^patientidcardnum$|^certid$",
        ("患者证件号", "身份证号", "证件号码", "患者身份证号"),
        (
            "SFZH",
            "ZJHM",
            "SFZHM",
            "ZJH",
            "IDCARD",
            "IDNO",
            "IDNUMBER",
            "CERTNO",
            "CERTID",
            "SFZ",
            "PATIENTIDCARD",
            "PATIENTIDNO",
            "SHENFENZHENG",
            "SHENFENZHENGHAO",
            "ZHENGJIANHAOMA",
        ),
    ),
    (
        "cert_type",
        r"(cert|idcard)type$",
        ("证件类型", "患者证件类型"),
        ("ZJLX", "ZJLB", "IDTYPE", "CERTTYPE", "ZHENGJIANLEIXING"),
    ),
    ("card_type", r"^cardtype$", ("就诊卡类型", "卡类型"), ("JZKLX", "KLX", "CARDTYPE", "JIUZHENKALEIXING")),
    ("sex", r"^(patient)?sex$|gender", ("性别",), ("XB", "XBDM", "SEX", "GENDER", "XINGBIE", "XBBM")),
    ("birthday", r"birth", ("出生日期",), ("CSRQ", "BIRTHDAY", "BIRTHDATE", "DOB", "CHUSHENGRIQI", "CSNY")),
    ("age", r"^(patient)?age$", ("年龄",), ("NL", "AGE", "NIANLING", "BRNL", "HZNL")),
    (
        "mobile",
        r"^(mobile|phone|tel|telnum|patientmobile|patientphone)$",
        ("电话", "手机", "联系电话"),
        (
            "LXDH",
            "SJHM",
            "SJH",
            "DH",
            "MOBILE",
            "PHONE",
            "TEL",
            "TELEPHONE",
            "LIANXIDIANHUA",
            "SHOUJIHAO",
            "BRDH",
            "HZDH",
        ),
    ),
    ("guardian_name", r"^guardianname$", ("监护人姓名",), ("JHRXM", "GUARDIANNAME", "JIANHURENXINGMING")),
    ("guardian_cert", r"^guardiancertid$", ("监护人身份证",), ("JHRSFZH", "JHRZJHM", "GUARDIANIDNO", "GUARDIANIDCARD")),
    ("guardian_mobile", r"^guardianmobile$", ("监护人电话",), ("JHRDH", "JHRLXDH", "GUARDIANPHONE")),
    (
        "dept_code",
        r"^deptid$|^deptcode$",
        ("科室代码", "科室编码"),
        ("KSDM", "KSBM", "KSBH", "KSID", "DEPTCODE", "DEPTID", "DEPTNO", "KESHIDAIMA"),
    ),
    ("dept_name", r"^deptname$", ("科室名称",), ("KSMC", "DEPTNAME", "KESHIMINGCHENG", "KSM")),
    ("subject_code", r"^subjectcode$", ("诊疗科目代码",), ("ZLKMDM", "KMDM", "SUBJECTCODE")),
    (
        "doctor_id",
        r"^doctorid$",
        ("医生工号", "医师工号", "人员工号"),
        (
            "YSGH",
            "YSDM",
            "YSBH",
            "YSID",
            "GH",
            "DOCTORID",
            "DOCTORCODE",
            "DOCTORNO",
            "STAFFID",
            "STAFFNO",
            "EMPNO",
            "YISHENGGONGHAO",
        ),
    ),
    ("doctor_name", r"^doctorname$", ("医生姓名",), ("YSXM", "YSMC", "DOCTORNAME", "YISHENGXINGMING")),
    (
        "recipe_id",
        r"^recipe(id|code|no)$",
        ("处方号", "处方编号"),
        (
            "CFBH",
            "CFH",
            "CFHM",
            "CFID",
            "CFDH",
            "RECIPEID",
            "RECIPENO",
            "PRESCRIPTIONNO",
            "PRESCRIPTIONID",
            "RXNO",
            "CHUFANGHAO",
            "CHUFANGBIANHAO",
        ),
    ),
    ("visit_date", r"^visitdate$", ("就诊日期",), ("JZRQ", "VISITDATE", "JIUZHENRIQI")),
    (
        "recipe_time",
        r"^datein$",
        ("处方日期", "开方时间"),
        ("KFRQ", "KFSJ", "CFRQ", "CFSJ", "RECIPEDATE", "RECIPETIME", "PRESCRIBETIME", "KAIFANGSHIJIAN"),
    ),
    ("apply_time", r"^applydate$", ("申请时间",), ("SQSJ", "SQRQ", "APPLYTIME", "APPLYDATE", "SHENQINGSHIJIAN")),
    ("start_time", r"^startdate$", ("开始时间",), ("KSSJ", "JZSJ", "STARTTIME", "BEGINTIME", "KAISHISHIJIAN")),
    ("end_time", r"^enddate$", ("结束时间",), ("JSSJ", "ENDTIME", "FINISHTIME", "JIESHUSHIJIAN")),
    (
        "diag_code",
        r"^(icdcode|diagnosiscode|maindiagnosecode)$",
        ("诊断编码", "诊断代码"),
        ("ZDDM", "ZDBM", "ICD", "ICDCODE", "ICD10", "DIAGCODE", "ZHENDUANDAIMA"),
    ),
    (
        "organ_id",
        r"^organid$",
        ("机构唯一号", "机构代码", "机构编码"),
        ("JGDM", "JGBM", "JGBH", "JGID", "YLJGDM", "TYSHXYDM", "ORGCODE", "ORGANCODE", "ORGANID", "ORGID"),
    ),
    (
        "last_diagnosis",
        r"^(originaldiagnosis|lastdiagnosis)$",
        ("上次就诊诊断", "上次诊断"),
        ("SCZD", "SCJZZD", "SCZDMC", "LASTDIAGNOSIS", "PREVDIAGNOSIS"),
    ),
    ("this_diagnosis", r"^thisdiagnosis$", ("本次诊断名称", "本次诊断"), ("BCZD", "BCZDMC", "THISDIAGNOSIS")),
    (
        "update_time",
        r"^updatetime$",
        ("最后更新时间", "更新时间"),
        ("GXSJ", "ZHGXSJ", "XGSJ", "JLSJ", "UPDATETIME", "LASTUPDATE", "MODIFYTIME", "UPDATEDAT", "GENGXINSHIJIAN"),
    ),
    ("answer_flag", r"^answerflag$", ("是否回复",), ("HFBZ", "SFHF", "HFZT", "REPLYFLAG", "ANSWERED", "ISREPLY")),
    (
        "diag_name",
        r"^(icdname|furtherconsultdiagnosis)$",
        ("诊断名称",),
        ("ZDMC", "BCZD", "DIAGNAME", "DIAGNOSIS", "ZHENDUANMINGCHENG"),
    ),
    (
        "total_fee",
        r"^totalfee$",
        ("金额", "总金额"),
        ("ZJE", "JE", "ZFY", "TOTALFEE", "TOTALAMOUNT", "AMOUNT", "ZONGJINE"),
    ),
    ("drug_code", r"^drcode$", ("药品代码",), ("YPDM", "YPBM", "YPID", "DRUGCODE", "DRUGID", "YAOPINDAIMA")),
    ("drug_name", r"^drname$", ("药品名称",), ("YPMC", "DRUGNAME", "YAOPINMINGCHENG")),
    ("line_no", r"^(lineno|recipedetailid)$", ("明细序号", "序号"), ("XH", "MXXH", "LINENO", "SEQ", "SEQNO", "XUHAO")),
    ("buss_id", r"^bussid$", ("业务ID", "记录ID"), ("YWID", "YWLSH", "BUSSID", "BIZID")),
    ("trade_no", r"^tradeno$", ("交易流水号",), ("JYLSH", "LSH", "TRADENO", "TRANSACTIONID", "JIAOYILIUSHUIHAO")),
]

# Chinese word → HIS abbreviation pieces (used to spell a field's Chinese name the way HIS columns do)
_WORD_ABBR = {
    "患者": ("BR", "HZ", ""),
    "病人": ("BR", "HZ", ""),
    "医生": ("YS",),
    "医师": ("YS",),
    "药师": ("YS", "YJS"),
    "身份证号": ("SFZH",),
    "证件号": ("SFZH", "ZJHM", "ZJH"),
    "证件号码": ("ZJHM", "SFZH"),
    "姓名": ("XM",),
    "电话": ("DH", "LXDH", "SJHM"),
    "手机": ("SJHM", "SJ"),
    "日期": ("RQ", "SJ"),
    "时间": ("SJ", "RQ"),
    "编号": ("BH", "H", "ID"),
    "号": ("H", "BH", "HM"),
    "代码": ("DM", "BM"),
    "名称": ("MC",),
    "记录ID": ("ID",),
    "金额": ("JE", "FY"),
    "价格": ("JG", "FY", "JE"),
    "费用": ("FY", "JE"),
    "记录号": ("ID", "H", "BH"),
}

_KIND_BY_FIELD = [
    (r"cert(id)?$|idcard(num)?$|certid$", "id_card"),
    (r"mobile$|phone$|tel(num)?$", "mobile"),
]


def _norm(s: str) -> str:
    return re.sub(r"[\s_\-.·()（）]", "", str(s)).lower()


@functools.lru_cache(maxsize=4096)
def _pinyin(text: str) -> tuple[str, str]:
    """(initials, full pinyin) of the Chinese characters in ``text``; other characters kept."""
    from pypinyin import Style, lazy_pinyin

    initials = "".join(p[0] if p else "" for p in lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default"))
    full = "".join(lazy_pinyin(text, errors="default"))
    return _norm(initials), _norm(full)


def _camel_words(key: str) -> str:
    return _norm(re.sub(r"([a-z])([A-Z])", r"\1 \2", key))


def _concepts(f) -> list[tuple[str, tuple[str, ...]]]:
    out = []
    key = f.key.lower()
    for concept, key_re, terms, spellings in SYNONYMS:
        if re.search(key_re, key) or any(t == f.name for t in terms):
            out.append((concept, spellings))
    return out


# Chinese word → English spellings HIS vendors use in English-ish schemas (patient_name, id_no …)
_WORD_EN = {
    "患者": ("patient", "pat", "p", ""),
    "病人": ("patient", "pat", ""),
    "医生": ("doctor", "doc", "dr"),
    "医师": ("doctor", "doc", "dr"),
    "开方医师": ("doctor", "prescriber", "dr"),
    "审方药师": ("pharmacist", "audit"),
    "药师": ("pharmacist", "pharm"),
    "监护人": ("guardian",),
    "姓名": ("name",),
    "证件号码": ("id_no", "idno", "cert_no", "id_card"),
    "身份证号": ("id_no", "idcard", "id_card", "id_number"),
    "证件类型": ("id_type", "cert_type"),
    "性别": ("sex", "gender"),
    "年龄": ("age",),
    "出生日期": ("birth_date", "birthday", "dob"),
    "手机号码": ("mobile", "phone", "phone_no", "tel"),
    "联系电话": ("phone", "tel", "phone_no", "mobile"),
    "科室代码": ("dept_code", "dept_id"),
    "科室名称": ("dept_name",),
    "院内ID": ("code", "id", "no"),
    "申请时间": ("apply_time", "request_time"),
    "开始时间": ("start_time", "begin_time"),
    "结束时间": ("end_time", "finish_time"),
    "诊断编码": ("diag_code", "icd_code", "icd10"),
    "诊断名称": ("diag_name", "diagnosis"),
    "本次诊断名称": ("diagnosis", "diag_name"),
    "上次就诊诊断": ("last_diagnosis", "previous_diagnosis", "prev_diag"),
    "主诊断编码": ("main_diag_code", "icd_code", "diag_code"),
    "处方号": ("recipe_no", "rx_no", "prescription_no"),
    "复诊记录ID": ("visit_no", "visit_id", "revisit_id", "followup_id"),
    "咨询记录ID": ("consult_no", "consult_id"),
    "处方日期": ("prescribe_time", "rx_time", "recipe_time", "rx_date"),
    "审方时间": ("audit_time", "check_time", "review_time"),
    "金额": ("amount", "fee", "total"),
    "处方金额": ("total_amount", "rx_amount", "amount"),
    "价格": ("price", "fee"),
    "复诊价格": ("fee", "price", "visit_fee"),
    "咨询价格": ("fee", "price", "consult_fee"),
    "支付渠道": ("pay_channel", "pay_way"),
    "是否回复": ("answered", "reply_flag"),
    "复诊声明": ("revisit_declared", "revisit_statement", "referral_flag", "referral"),
    "就诊卡号": ("card_no", "visit_card"),
    "简要病史": ("history", "medical_history"),
    "复诊类别": ("visit_type", "mode"),
    "咨询类别": ("consult_type", "mode"),
    "咨询内容": ("content", "question"),
    "费别": ("fee_type", "cost_type", "insurance_type"),
    "处方类型": ("rx_type", "recipe_type"),
    "配送方式": ("delivery", "delivery_type"),
    "帖数": ("doses", "packets"),
    "过敏信息": ("allergy",),
    "处方有效天数": ("valid_days",),
    "是否支付": ("paid", "is_paid"),
    "人员院内工号": ("staff_no", "staff_code", "emp_no", "job_no"),
    "人员类别": ("staff_type", "person_type", "emp_type"),
    "职称代码": ("title_code", "title"),
    "职称名称": ("title_name",),
    "资格证书编码": ("qualification_cert_no", "qualification_no"),
    "执业证书编码": ("practice_cert_no", "license_no", "practice_no"),
    "主要执业机构": ("practice_org", "main_org"),
    "执业地点": ("practice_place", "practice_area"),
    "执业证书发证机关": ("issuing_authority", "issuer"),
    "执业证书发证日期": ("issue_date", "license_date"),
    "独立临床工作年限": ("work_years", "clinical_years", "years"),
    "拒绝/取消时间": ("refuse_time", "cancel_time"),
    "拒绝/取消原因": ("refuse_reason", "cancel_reason"),
    "拒绝/取消类别": ("refuse_type", "cancel_type"),
    "民族": ("nation", "ethnic"),
}


def _field_variants(f) -> dict[str, str]:
    """normalised spelling → where it comes from (中文说明)."""
    v: dict[str, str] = {}
    weak: set[str] = set()  # spellings that drop a qualifying word (监护人身份证号 → id_no): ranked lower

    def add(s, why, partial=False):
        n = _norm(s)
        if n and n not in v:
            v[n] = why
            if partial:
                weak.add(n)

    add(f.key, "字段代码")
    add(_camel_words(f.key), "字段代码")
    add(f.name, "中文名")
    ini, full = _pinyin(f.name)
    add(ini, "中文名拼音首字母")
    add(full, "中文名全拼")
    for style, alias in (f.aliases or {}).items():
        add(alias, f"别名({style})")
    for concept, spellings in _concepts(f):
        for sp in spellings:
            add(sp, f"HIS 命名习惯({concept})")
    # Chinese name spelled with HIS abbreviations: 患者姓名 → BRXM / HZXM / XM
    for word, abbrs in _WORD_ABBR.items():
        if word in f.name:
            head, _, tail = f.name.partition(word)
            for a in abbrs:
                add(_pinyin(head)[0] + a + _pinyin(tail)[0], f"HIS 缩写({word}→{a or '省略'})")
    # English spellings: 患者姓名 → patient_name / pat_name / name
    for word, ens in _WORD_EN.items():
        if word in f.name:
            head, _, tail = f.name.partition(word)
            heads = [""] + [e for w2, es in _WORD_EN.items() if w2 == head for e in es]
            tails = [""] + [e for w2, es in _WORD_EN.items() if w2 == tail for e in es]
            for e in ens:
                for h in heads:
                    for t in tails:
                        partial = bool((head and not h) or (tail and not t))
                        if partial and len(e) < 4:
                            continue
                        add(h + e + t, f"英文命名({word}→{e or '省略'})", partial)
    v["__weak__"] = weak  # type: ignore[assignment]
    return v


def _column_variants(col: str) -> list[tuple[str, str | None]]:
    """(normalised spelling, prefix) — a joined column ``ys.SFZH`` also yields ``SFZH`` with prefix ``ys``."""
    out = [(_norm(col), None)]
    if re.search(r"[\u4e00-\u9fff]", col):
        ini, full = _pinyin(col)
        out += [(ini, None), (full, None)]
    if "." in col:
        prefix, base = col.rsplit(".", 1)
        out.append((_norm(base), _norm(prefix)))
        if re.search(r"[\u4e00-\u9fff]", base):
            out.append((_pinyin(base)[0], _norm(prefix)))
    return out


_PREFIX_HINTS = {
    "patient": ("br", "hz", "p", "pat", "patient", "patients", "huanzhe", "bingren"),
    "doctor": ("ys", "d", "doc", "doctor", "staff", "yisheng", "dr"),
    "auditdoctor": ("sh", "shys", "yjs", "ph", "pharmacist", "audit"),
}


def _field_kind(f) -> str | None:
    k = f.key.lower()
    for pattern, kind in _KIND_BY_FIELD:
        if re.search(pattern, k):
            return kind
    if f.type in ("date", "datetime"):
        return f.type
    if f.type == "decimal":
        return "amount"
    if f.type == "integer":
        return "integer"
    return None


def _shape_adjust(f, prof) -> tuple[float, str | None]:
    if prof is None:
        return 0.0, None
    want = _field_kind(f)
    kind = prof.kind
    if want is None:
        if kind in ("id_card", "mobile") and f.type == "string":
            return (-20.0 if f.code_set else -8.0), f"列值像{prof.kind_label}，字段不是该类"
        if f.code_set and kind == "code":
            return 4.0, "列值像代码，字段有值域"
        return 0.0, None
    if want == "datetime" and kind == "date":
        return 2.0, "列值是日期（无时间部分）"
    if (
        want == kind
        or (want == "amount" and kind in ("decimal", "integer"))
        or (want == "integer" and kind in ("code", "integer"))
        or (want in ("date", "datetime") and kind in ("date", "datetime"))
    ):
        labels = {
            "id_card": "身份证号",
            "mobile": "手机号",
            "date": "日期",
            "datetime": "日期时间",
            "amount": "金额/数值",
            "integer": "整数",
        }
        return 12.0, f"列值像{labels.get(want, want)}" + (f"（格式 {prof.date_format}）" if prof.date_format else "")
    if kind == "empty":
        return -5.0, "列全空"
    return -15.0, f"列值像{prof.kind_label}，与字段类型不符"


def _profile_of(source):
    from ..sources._profile import Profile, profile_frame

    if source is None:
        return None, []
    if isinstance(source, Profile):
        return {c.column: c for c in source.columns}, [c.column for c in source.columns]
    if isinstance(source, pd.DataFrame):
        sample = source if len(source) <= 20000 else source.sample(20000, random_state=0)
        prof = profile_frame(sample)
        return {c.column: c for c in prof.columns}, [str(c) for c in source.columns]
    cols = [str(c) for c in source]
    return None, cols


# A leading word naming someone other than the patient (监护人, 开方医师, 审方药师 …): a column that drops
# it (SFZH for 监护人身份证号 JHRSFZH) most likely holds the patient's value, not that person's.
_OTHER_PERSON = re.compile(r"^(jhr|jianhuren|kfys|kaifangyishi|sfys|sfyjs|shenfangyaoshi|fzr|fuzeren|jbr|jingbanren)$")


# Whose value a field or a column holds (患者本人 / 监护人 / 医生 / 药师), read from the leading word of the
# Chinese name, its pinyin (initials) or English.  Longer markers are tried first.
_ROLE_MARKERS = {
    "guardian": ("监护人", "jianhuren", "guardian", "jhr"),
    "pharmacist": ("审方药师", "药师", "shenfangyaoshi", "pharmacist", "yaoshi", "sfyjs", "sfys", "shys", "yjs"),
    "patient": ("患者", "病人", "huanzhe", "bingren", "patient", "pat", "hz", "br"),
    "doctor": ("开方医师", "医生", "医师", "yisheng", "yishi", "doctor", "doc", "ys"),
}
_ROLE_ZH = {"guardian": "监护人", "pharmacist": "药师", "patient": "患者", "doctor": "医生"}
# roles that are never the subject of a record: an unmarked column (SJHM) is not theirs
_NEVER_UNMARKED = ("guardian",)


def _role_of(text: str) -> str | None:
    """The person a name is about, from its leading word; None when it names nobody."""
    raw = str(text).strip()
    flat = _norm(raw)
    for role, markers in _ROLE_MARKERS.items():
        for m in markers:
            if re.search(r"[\u4e00-\u9fff]", m):
                if raw.startswith(m) and len(raw) > len(m):
                    return role
            elif flat.startswith(m) and len(flat) >= len(m) + 2:
                return role
    return None


def _field_role(f) -> str | None:
    return _role_of(f.name) or _role_of(f.key)


def _role_conflict(field_role: str | None, col: str) -> tuple[float, str | None]:
    """A penalty when the column is about someone else than the field: 监护人手机号码 ← LXDH (the
    patient's own phone), 患者证件号码 ← JHRZJHM (the guardian's), 医生身份证号 ← 药师身份证号列."""
    if field_role is None:
        return 0.0, None
    col_role = _role_of(col) or _role_of(col.rsplit(".", 1)[-1])
    if col_role is None:
        if field_role in _NEVER_UNMARKED:
            return -35.0, f"字段是{_ROLE_ZH[field_role]}的，列名没有{_ROLE_ZH[field_role]}标记（多半是患者本人的）"
        return 0.0, None
    if col_role != field_role:
        return -25.0, f"列名指{_ROLE_ZH[col_role]}，字段是{_ROLE_ZH[field_role]}的"
    return 0.0, None


def _record_id_fields(dataset) -> set[str]:
    """The key field that identifies one record (复诊记录ID, 处方号 …): the data set's key without the
    fields every data set's key shares (the institution), when exactly one is left."""
    try:
        keys = [set(d.key) for d in dataset.spec.top_level() if d.key]
    except Exception:  # a hand-built data set without a spec
        keys = []
    shared = set.intersection(*keys) if keys else set()
    rest = [k for k in dataset.key if k not in shared]
    return set(rest) if len(rest) == 1 else set()


_ID_NAME = re.compile(r"(lsh|liushuihao|jlh|id|bh|bianhao|no)$")
_ID_NAME_ZH = re.compile(r"(流水号|编号|记录号|ID)$")
_NOT_ID_KINDS = ("id_card", "mobile", "date", "datetime", "amount", "decimal", "name", "empty")


def _key_adjust(col: str, prof) -> tuple[float, float | None, str | None]:
    """For the record-ID field: (penalty, floor score, reason).  A column whose values are unique and
    whose name says 流水号/编号/ID is a business key even when its name is unlike the field's
    (就诊流水号 JZLSH for 复诊记录ID); a column with many repeated values is not one."""
    if prof is None or prof.n < 2:
        return 0.0, None, None
    filled = prof.n - prof.nulls
    unique = filled / prof.n >= 0.99 and prof.distinct >= 0.98 * filled
    if filled and prof.distinct < 0.9 * filled:
        return -15.0, None, f"列值有重复（{prof.distinct} 个不同值 / {filled} 行），不像每条记录唯一的业务主键"
    name = _norm(col.rsplit(".", 1)[-1])
    if not unique or prof.kind in _NOT_ID_KINDS or not (_ID_NAME.search(name) or _ID_NAME_ZH.search(col)):
        return 0.0, None, None
    serial = "lsh" in name or "liushuihao" in name or "流水号" in col
    what = "流水号" if serial else "编号/ID"
    return 0.0, (90.0 if serial else 84.0), f"列值每行唯一、列名像{what}：可作业务主键"


_CONFIDENT = 75.0  # a candidate at or above this score is drafted without a second look
_NAME_EVIDENCE = 60.0  # the column name's own score a confident value-based candidate needs
_STRONG_FIT = 10.0  # value fits below this (bare codes 1/2, 是/否) are weak evidence


def _code_set_of(dataset, f):
    """The field's code set, when the data set knows its spec (a bare Dataset may not)."""
    if not f.code_set:
        return None
    try:
        return dataset.spec.code_set(f.code_set)
    except Exception:  # a Dataset built without its spec, or a code set the spec lacks
        return None


def _distinct_values_of(source):
    """column → its distinct values (or None), computed once per column, for DataFrame sources."""
    memo: dict = {}

    def values_of(col):
        if not isinstance(source, pd.DataFrame):
            return None
        if col not in memo:
            memo[col] = distinct_values(source[col].head(20000))
        return memo[col]

    return values_of


def suggest_fields(dataset, source, *, top: int = 5, min_score: float = 0.3) -> list[FieldSuggestion]:
    """Rank source columns for every field of a spec data set (指标对照建议).

    ``source`` is a DataFrame (its values are profiled), a :class:`hlwjr.sources._profile.Profile`, or a
    list of column names (names only).  Returns one FieldSuggestion per spec field (array fields
    included, usually without candidates), candidates best first with score 0–1 and reasons.
    """
    from rapidfuzz import fuzz

    profiles, columns = _profile_of(source)
    col_vars = {c: _column_variants(c) for c in columns}
    values_of = _distinct_values_of(source)
    id_fields = _record_id_fields(dataset)
    out = []
    for f in dataset.fields.values():
        fv = dict(_field_variants(f))
        weak = fv.pop("__weak__")
        concept_spellings = {_norm(sp) for _c, sps in _concepts(f) for sp in sps}
        role = (
            "patient"
            if f.key.lower().startswith("patient")
            else "auditdoctor"
            if f.key.lower().startswith("audit")
            else "doctor"
            if f.key.lower().startswith("doctor")
            else None
        )
        person = _field_role(f)
        code_set = _code_set_of(dataset, f)
        cands = []
        for col in columns:
            best, why = 0.0, []
            for cv, prefix in col_vars[col]:
                if not cv:
                    continue
                if cv in fv:
                    s, w = (92.0 if cv in weak else 100.0), [f"列名即{fv[cv]} {cv.upper()}"]
                else:
                    s, match = 0.0, None
                    for variant in fv:
                        r = fuzz.ratio(cv, variant)
                        if r > s:
                            s, match = r, variant
                    w = [f"列名接近{fv.get(match, '')} {(match or '').upper()}（{s:.0f}%）"]
                    s *= 0.9
                    if len(cv) >= 4:  # HIS columns often drop a leading word: QSSJ ⊂ PSQSSJ (配送签收时间)
                        for variant in fv:
                            if len(variant) > len(cv) and variant.endswith(cv) and not variant.startswith(cv):
                                sub = 80 + 10 * len(cv) / len(variant)
                                dropped = variant[: len(variant) - len(cv)]
                                other = _OTHER_PERSON.match(dropped)
                                if other:  # 监护人身份证号 ⊃ 身份证号: the bare column is usually the patient's
                                    sub -= 12
                                if sub > s:
                                    s, w = (
                                        sub,
                                        [
                                            f"列名是{fv[variant]} {variant.upper()} 的后半部分"
                                            + (f"（省去的 {dropped.upper()} 指另一个人，可能不对应）" if other else "")
                                        ],
                                    )
                if prefix is not None:
                    if role and prefix in _PREFIX_HINTS.get(role, ()):
                        s += 6
                        w.append(f"关联表前缀 {prefix} 与字段角色相符")
                    elif role or any(prefix in hints for hints in _PREFIX_HINTS.values()):
                        s -= 10
                        w.append(f"关联表前缀 {prefix} 与字段角色不符")
                elif (
                    role in ("doctor", "auditdoctor")
                    and cv in concept_spellings
                    and any(cv in {_norm(x) for x in sps} for c_, _k, _t, sps in SYNONYMS if c_.startswith("patient"))
                ):
                    s -= 10
                if s > best:
                    best, why = s, w
            prof = profiles.get(col) if profiles else None
            adj, reason = _shape_adjust(f, prof)
            fit, fit_reason = fit_adjust(code_set, values_of(col)) if code_set is not None else (0.0, None)
            penalty, conflict = _role_conflict(person, col)
            raw = best + adj + fit + penalty
            if fit > 0 and (best < _NAME_EVIDENCE or fit < _STRONG_FIT):
                raw = min(raw, max(raw - fit, _CONFIDENT - 1))  # values raise the rank, not to "confident"
            if f.key in id_fields:
                key_penalty, floor, key_reason = _key_adjust(col, prof)
                raw += key_penalty
                if floor is not None and raw < floor:
                    raw, why = floor, [key_reason]
                elif key_reason:
                    why = why + [key_reason]
            score = max(0.0, min(100.0, raw)) / 100.0
            if reason:
                why = why + [reason]
            if fit_reason:
                why = why + [fit_reason]
            if conflict:
                why = why + [conflict]
            if score >= min_score:
                cands.append((raw, Candidate(col, score, why)))
        cands.sort(key=lambda rc: (-rc[0], columns.index(rc[1].column)))
        cands = [c for _raw, c in cands]
        out.append(FieldSuggestion(f.key, f.name, f.type, f.required, cands[:top], f.code_set))
    return out


# time fields that are not when the business happened (更新、出生、结束、拒绝、退费、有效期…)
_NOT_BUSINESS_TIME = re.compile(r"更新|修改|出生|结束|终止|止$|拒绝|取消|退|有效期|反馈|签收|截止|发证|批准")


def suggest_business_time(dataset, suggestions, source, *, min_score: float = 0.75) -> dict | None:
    """The column giving a record's business day (业务时间, for ``upload --date``): the column of the
    data set's event-time field — 申请时间、处方日期、就诊日期、支付时间… (a field whose name shares a
    word with the data set's name first, e.g. 处方日期 for 在线处方), when that column's values are
    dates or date-times.  ``{"column", "format", "field", "reason"}`` or None (master data, no such
    column)."""
    profiles, _columns = _profile_of(source)
    by_field = {s.field: s for s in suggestions}
    picks = []
    for i, f in enumerate(dataset.fields.values()):
        s = by_field.get(f.key)
        if f.type not in ("date", "datetime") or _NOT_BUSINESS_TIME.search(f.name) or s is None or s.best is None:
            continue
        best = s.best
        prof = profiles.get(best.column) if profiles else None
        if best.score < min_score or prof is None or prof.kind not in ("date", "datetime") or prof.null_share > 0.05:
            continue
        own = any(ch in f.name for ch in _name_words(dataset.name))
        picks.append((not own, i, f, best, prof))
    if not picks:
        return None
    _own, _i, f, best, prof = min(picks, key=lambda p: (p[0], p[1]))
    return {
        "column": best.column,
        "format": prof.date_format,
        "field": f.key,
        "reason": f"业务时间取 {f.name}（{f.key}）的列 {best.column}（值为日期时间，格式 {prof.date_format}）",
    }


def _name_words(name: str) -> list[str]:
    """Two-character words of a data set name without the generic 在线/互联网 (在线处方 → 处方)."""
    core = re.sub(r"^(在线|互联网|网上)", "", name)
    return [core[i : i + 2] for i in range(len(core) - 1)]


#: a column named exactly like two fields may feed both (the spec then carries one value twice)
_EXACT = 0.99


def assign_columns(suggestions: list[FieldSuggestion], *, min_score: float = 0.75) -> dict[str, Candidate]:
    """The draft as an *assignment* (字段与源列一一对应): ``{field: candidate}`` where one source
    column feeds one field — the best-scoring pair first; a field whose good candidates are all
    taken by better matches is left open rather than given a weak or shared guess. Only a
    column matching two fields exactly (score ≥ 0.99 for both) may feed both."""
    pairs = [
        (c.score, i, s.field, c)
        for i, s in enumerate(suggestions)
        if s.type != "array"
        for c in s.candidates
        if c.score >= min_score
    ]
    pairs.sort(key=lambda p: (-p[0], p[1]))
    chosen: dict[str, Candidate] = {}
    used: dict[str, float] = {}  # column → the score of the field that took it
    for score, _i, fld, cand in pairs:
        if fld in chosen:
            continue
        taken = used.get(cand.column)
        if taken is not None and not (taken >= _EXACT and score >= _EXACT):
            continue
        chosen[fld] = cand
        used[cand.column] = max(score, taken or 0.0)
    return chosen


def suggest_dataset_mapping(dataset, source, *, table: str | None = None, min_score: float = 0.75):
    """A :class:`hlwjr.mapping._engine.DatasetMapping` filled with the best suggestion per field
    (status ``suggested``)."""
    from ._model import DatasetMapping, FieldRule, SourceRef

    dm = DatasetMapping(dataset=dataset.code, source=SourceRef(table=table or "TABLE"))
    for fld, b in assign_columns(suggest_fields(dataset, source), min_score=min_score).items():
        dm.fields[fld] = FieldRule(field=fld, column=b.column, score=round(b.score, 3), comment="; ".join(b.reasons))
    return dm


# ---- code suggestions ---------------------------------------------------------------------------

_CODE_SYNONYMS: dict[str, tuple[str, ...]] = {
    # GB/T 2261.1 sex
    "男": ("m", "male", "man", "男", "男性", "nan"),
    "女": ("f", "female", "woman", "女", "女性", "nv"),
    "未知": ("u", "unknown", "未知", "不详", "x"),
    "未说明": ("未说明", "other"),
    # yes / no
    "是": ("y", "yes", "true", "是", "t", "有"),
    "否": ("n", "no", "false", "否", "f", "无"),
    # payment channels
    "微信": ("wx", "wechat", "weixin", "微信支付"),
    "支付宝": ("zfb", "alipay", "支付宝"),
    "银联": ("yl", "unionpay", "银行卡"),
    # consultation modes
    "图文": ("tw", "text", "图文咨询"),
    "语音": ("yy", "voice", "电话", "语音咨询"),
    "视频": ("sp", "video", "视频咨询"),
    "自费": ("zf", "self", "自费"),
    "医保": ("yb", "insurance", "医保"),
    "口服": ("po", "oral"),
    "吸入": ("xr", "inh"),
    "局部": ("wy", "外用", "topical"),
    "滴眼": ("dy",),
    "通过": ("tg", "pass", "approved"),
    "不通过": ("btg", "reject", "fail"),
}


def _local_frame(local_values) -> pd.DataFrame:
    """local / local_name / count of the local values to map. A missing local value (None, NaN) is
    not a code: it is left out for every input kind, as for a Series (it would otherwise read as the
    text "nan" — the pinyin of 男). Values keep their type (1 stays 1, never 1.0)."""
    if isinstance(local_values, pd.DataFrame):
        df = local_values.copy()
        if "local" not in df.columns:
            df = df.rename(columns={df.columns[0]: "local"})
        if "count" not in df.columns:
            df["count"] = None
        if "local_name" not in df.columns:
            df["local_name"] = None
        df = df[["local", "local_name", "count"]]
    elif isinstance(local_values, pd.Series):
        vc = local_values.dropna().astype("str").str.strip().value_counts()
        return pd.DataFrame({"local": vc.index, "local_name": None, "count": vc.to_numpy()})
    elif isinstance(local_values, dict):
        df = pd.DataFrame(
            {
                "local": pd.Series(list(local_values), dtype=object),
                "local_name": None,
                "count": pd.Series(list(local_values.values()), dtype=object),
            }
        )
    else:
        df = pd.DataFrame({"local": pd.Series(list(local_values), dtype=object), "local_name": None, "count": None})
    return df[df["local"].notna().to_numpy()].reset_index(drop=True)


def suggest_codes(code_set, local_values, *, min_score: float = 0.5) -> pd.DataFrame:
    """Propose a standard code for every local value (值域对照建议).

    ``local_values``: a Series of raw values (counted here), a dict value → count, or a DataFrame
    with ``local`` (and optionally ``local_name``, ``count``).  Returns a DataFrame with columns
    local, local_name, count, code, name, score, reason, status (always ``suggested``; ``code`` is
    empty when nothing scores ≥ ``min_score``).
    """
    from rapidfuzz import fuzz

    df = _local_frame(local_values)
    codes = dict(code_set.codes)
    rows = []
    for local, local_name, count in df.itertuples(index=False):
        lv = _norm(local)
        ln = _norm(local_name) if isinstance(local_name, str) else ""
        best = (0.0, None, "")
        for code, name in codes.items():
            cn = _norm(name)
            cands = _written_differently(local, code)
            if lv == _norm(code):
                cands.append((1.0 if not ln or fuzz.partial_ratio(ln, cn) > 60 else 0.8, "本地值与标准代码相同"))
            if (lv and lv == cn) or (ln and ln == cn):
                cands.append((0.98, "与代码名称一致"))
            for key, syns in _CODE_SYNONYMS.items():
                if key in name and (lv in syns or (ln and ln in syns) or lv == _norm(key) or ln == _norm(key)):
                    # 不通过 contains 通过: prefer the longer key
                    cands.append((0.9 + 0.005 * len(key), f"常见写法 {local} = {key}"))
            for text in (lv, ln):
                if text and re.search(r"[\u4e00-\u9fff]", text):
                    r = fuzz.ratio(text, cn) / 100
                    if text in cn or cn in text:
                        r = max(r, 0.75 + 0.2 * min(len(text), len(cn)) / max(len(text), len(cn)))
                    cands.append((r * 0.9, f"名称相似 {r:.0%}"))
            for s, why in cands:
                if s > best[0]:
                    best = (s, code, why)
        score, code, why = best
        ok = score >= min_score
        rows.append(
            {
                "local": local,
                "local_name": local_name,
                "count": count,
                "code": code if ok else None,
                "name": codes.get(code) if ok else None,
                "score": round(score, 3),
                "reason": why if ok else "没有可信的建议，请人工对照",
                "status": "suggested",
            }
        )
    return pd.DataFrame(rows, columns=["local", "local_name", "count", "code", "name", "score", "reason", "status"])


def _written_differently(local, code: str) -> list[tuple[float, str]]:
    """The standard code written the way exports spoil it: full-width or padded (０１, " 01"), its
    leading zero lost (1 for 01, Excel stores codes as numbers), or read as a decimal (1.0 for 1)."""
    from .._privacy import to_halfwidth

    raw = str(local)
    t = to_halfwidth(raw).strip()
    out = []
    if t == code and raw != code:
        out.append((0.95, f"去掉空格/全角后即标准代码 {code}"))
    if (
        t.isdigit()
        and code.isdigit()
        and len(code) > len(t)
        and code.startswith("0")
        and code.lstrip("0") == t.lstrip("0")
    ):
        out.append((0.85, f"疑似丢失了前导零，应为 {code}（Excel 把代码当数字存储时会去掉前导零）"))
    if re.fullmatch(r"\d+\.0+", t) and t.split(".")[0] == code:
        out.append((0.85, f"疑似数字被读成了小数，应为 {code}"))
    return out


def suggest_code_map(name: str, code_set, local_values, **kw):
    """A :class:`hlwjr.mapping._engine.CodeMap` from :func:`suggest_codes` (entries ``suggested``)."""
    from ._codemaps import CODE_MAP_COLUMNS, CodeMap

    s = suggest_codes(code_set, local_values, **kw)
    entries = pd.DataFrame(
        {
            "local": s["local"].astype("str"),
            "local_name": s["local_name"],
            "code": s["code"],
            "name": s["name"],
            "status": "suggested",
            "comment": s["reason"],
        }
    )[CODE_MAP_COLUMNS]
    return CodeMap(name=name, entries=entries, code_set=code_set.id)


def top1_accuracy(suggestions: list[FieldSuggestion], truth: dict[str, str]) -> tuple[float, list[str]]:
    """Share of fields in ``truth`` (field → true column) whose best candidate is the true column,
    and the list of misses ("field: got X, want Y")."""
    by_field = {s.field: s for s in suggestions}
    misses = []
    hit = 0
    for f, col in truth.items():
        best = by_field[f].best if f in by_field else None
        if best is not None and best.column == col:
            hit += 1
        else:
            misses.append(f"{f}: got {best.column if best else None}, want {col}")
    return (hit / len(truth) if truth else 1.0), misses
