"""The names a spec field goes by in hospital exports: synonyms by concept, HIS abbreviations,
pinyin and its initials, English words, table prefixes — the variants a column name is matched
against.
"""

from __future__ import annotations

import functools
import re

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
