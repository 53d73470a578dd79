"""A small but complete dealer history for the printout tests, written through the ORM."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from fieldrep.storage.enums import (
    AbcClass,
    ChannelType,
    ClassScheme,
    ComplaintCategory,
    ContactMethod,
    CreditRisk,
    DecisionRole,
    FollowUpDirection,
    FollowUpSource,
    FollowUpStatus,
    LegacyCategory,
    NextStep,
    ObjectionOutcome,
    ObjectionType,
    PartnerTier,
    PaymentTerms,
    PeriodType,
    PlanItemStatus,
    PromoType,
    RecordStatus,
    ReportSection,
    ResponsePattern,
    Role,
    ServiceTier,
    TrainingTopic,
    VisitType,
)
from fieldrep.storage.models import (
    AfterSalesEvent,
    Agreement,
    AppUser,
    CarriedProduct,
    ClassHistory,
    CompetitorNote,
    Complaint,
    Contact,
    ContactRecord,
    ContactRecordParticipant,
    CreditAssessment,
    CustomerMgmtReport,
    Dealer,
    FollowUp,
    LegacyIssue,
    Objection,
    RelationshipGrade,
    ReportTask,
    RetailPriceChange,
    SalesFigure,
    Territory,
    TrainingSession,
    VisitPlanItem,
)
from fieldrep.storage.types import new_id

DEALER_NAME = "杭州恒达电子有限公司"
SECOND_DEALER_NAME = "宁波新锐科技商行"
CONTENT_END_MARKER = "全文结束标记"
# The visit day of the dataset and the day its route is planned for.
VISIT_DAY = date(2026, 11, 23)
ROUTE_DAY = date(2026, 11, 26)


@dataclass(frozen=True)
class DatasetIds:
    territory_id: str
    rep_id: str
    colleague_id: str
    manager_id: str
    dealer_id: str
    second_dealer_id: str
    record_id: str
    long_record_id: str
    plan_item_ids: tuple[str, ...]


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def build(session: Session, territory_id: str, rep_id: str) -> DatasetIds:
    """Two dealers with people, visits, objections, follow-ups, figures and reports."""

    def add(row: object) -> None:
        session.add(row)

    def base() -> dict[str, str]:
        return {"id": new_id(), "territory_id": territory_id}

    manager_id, colleague_id = new_id(), new_id()
    add(
        AppUser(
            id=manager_id,
            territory_id=territory_id,
            username="lina",
            display_name="李娜",
            role=Role.MANAGER,
        )
    )
    add(
        AppUser(
            id=colleague_id,
            territory_id=territory_id,
            username="wangqiang",
            display_name="王强",
            role=Role.REP,
            manager_user_id=manager_id,
        )
    )
    territory = session.get(Territory, territory_id)
    assert territory is not None
    territory.manager_user_id = manager_id

    dealer = Dealer(
        **base(),
        name=DEALER_NAME,
        short_name="恒达电子",
        province="浙江省",
        city="杭州市",
        district="西湖区",
        address="杭州市西湖区文三路 88 号恒达大厦 5 楼",
        phone="0571-88886666",
        legal_rep="陈国华",
        key_personnel="陈国华（总经理）、周敏（采购经理）",
        outlet_count=6,
        business_scale="年销售额约 8000 万元，员工 60 人",
        registered_capital=Decimal("5000000"),
        relationship_start_date=date(2021, 3, 15),
        our_contact_user_id=rep_id,
        initial_class="重点发展",
        main_products="笔记本电脑、商用台式机",
        reputation="本地商誉良好，回款及时",
        abc_class=AbcClass.A,
        credit_grade="AA",
        relationship_grade="良",
        annual_integrated_class="A+",
        service_tier=ServiceTier.VIP,
        partner_tier=PartnerTier.GOLD,
        is_key_account=True,
        channel_type=ChannelType.DISTRIBUTION,
        settlement_time="每月 25 日",
        settlement_method="银行转账",
        invoice_usage="增值税专用发票",
        settlement_procedure="先对账，财务审核后付款",
        payment_terms=PaymentTerms.NORMAL,
        credit_limit=Decimal("800000.00"),
        delivery_requirements="下单后 48 小时内送达杭州仓库",
        after_sales_terms="整机保修一年，厂家负责上门服务",
        industries="教育、政府、医疗",
        key_products="商用笔记本",
        core_area="杭州主城区",
        radiation_area="绍兴、湖州",
    )
    second = Dealer(**base(), name=SECOND_DEALER_NAME, abc_class=AbcClass.C, city="宁波市")
    add(dealer)
    add(second)
    session.flush()

    boss = Contact(
        **base(),
        dealer_id=dealer.id,
        name="陈国华",
        title="总经理",
        decision_role=DecisionRole.DECISION_MAKER,
        is_senior=True,
        personality="果断，重视数据",
        hobbies="高尔夫、茶道",
        mobile="13900001111",
        birth_date=date(1972, 5, 8),
        education="本科",
        native_place="浙江温州",
    )
    buyer = Contact(
        **base(),
        dealer_id=dealer.id,
        name="周敏",
        title="采购经理",
        decision_role=DecisionRole.INFLUENCER,
        is_counterpart=True,
        personality="细致谨慎",
        hobbies="羽毛球",
        mobile="13900002222",
    )
    clerk = Contact(**base(), dealer_id=second.id, name="刘小红", title="店员")
    add(boss)
    add(buyer)
    add(clerk)
    session.flush()
    dealer.their_contact_id = buyer.id
    dealer.business_contact_id = buyer.id
    dealer.settlement_contact_id = boss.id

    record = ContactRecord(
        **base(),
        dealer_id=dealer.id,
        rep_user_id=rep_id,
        contact_at=_at(VISIT_DAY, 2),
        contact_method=ContactMethod.VISIT,
        visit_type=VisitType.RETURN_VISIT,
        location="恒达大厦 5 楼会议室",
        participants="陈国华、周敏、张伟",
        content="介绍了新款商用笔记本的利润空间和市场容量，并用去年的销售数据引导对方兴趣。\n"
        "对方关心返利政策和项目保护。",
        successes="总经理同意安排一次销售人员培训。",
        shortcomings="没有准备好竞品对比表。",
        lessons="拜访前要准备竞品对标表格。",
        new_agreements="12 月 5 日前提供培训方案",
        new_plans="下周协助拜访两家重点终端客户",
        info_gaps="不清楚对方财务状况",
        sources_to_try="向其他厂家同事了解",
        cooperation_intent="合作意向强",
        next_step=NextStep.PURSUE_TRAINING,
        status=RecordStatus.FINAL,
    )
    long_record = ContactRecord(
        **base(),
        dealer_id=dealer.id,
        rep_user_id=rep_id,
        contact_at=_at(VISIT_DAY - timedelta(days=20)),
        contact_method=ContactMethod.MEETING,
        visit_type=VisitType.DEVELOPMENT,
        content=("经销商详细介绍了其渠道结构、下级客户分布与库存管理方式。" * 800)[:20000]
        + CONTENT_END_MARKER,
        successes="记录完整。",
        shortcomings="时间过长。",
        lessons="控制会议时长。",
    )
    add(record)
    add(long_record)
    session.flush()
    add(ContactRecordParticipant(**base(), contact_record_id=record.id, contact_id=boss.id))
    add(ContactRecordParticipant(**base(), contact_record_id=record.id, contact_id=buyer.id))

    objection = Objection(
        **base(),
        dealer_id=dealer.id,
        contact_record_id=record.id,
        raised_by_contact_id=boss.id,
        type=ObjectionType.PRICE,
        verbatim="你们的价格太高了，我们的利润空间太小",
        real_concern="担心年底返利无法兑现",
        response_pattern=ResponsePattern.AFFIRM_SUPPLEMENT_GUIDE,
        answer_given="肯定其关注点，补充三项获利来源，引导到全生命周期价值",
        outcome=ObjectionOutcome.RESOLVED,
        raised_on=VISIT_DAY,
    )
    open_objection = Objection(
        **base(),
        dealer_id=dealer.id,
        contact_record_id=record.id,
        type=ObjectionType.PROMOTION,
        verbatim="你们的促销品太少，又不能派促销员",
        outcome=ObjectionOutcome.OPEN,
        raised_on=VISIT_DAY,
    )
    add(objection)
    add(open_objection)
    session.flush()
    add(
        FollowUp(
            **base(),
            title="提供培训方案",
            details="包括课程大纲和讲师安排",
            owner_user_id=rep_id,
            due_on=date(2026, 12, 5),
            dealer_id=dealer.id,
            source_type=FollowUpSource.VISIT_AGREEMENT,
            source_id=record.id,
            direction=FollowUpDirection.WE_OWE,
        )
    )
    add(
        FollowUp(
            **base(),
            title="申请促销员支持",
            owner_user_id=colleague_id,
            due_on=date(2026, 11, 20),
            dealer_id=dealer.id,
            source_type=FollowUpSource.OBJECTION,
            source_id=open_objection.id,
            direction=FollowUpDirection.INTERNAL,
            status=FollowUpStatus.IN_PROGRESS,
        )
    )
    add(
        FollowUp(
            **base(),
            title="寄送行业需求资料",
            owner_user_id=rep_id,
            due_on=date(2026, 11, 24),
            dealer_id=dealer.id,
            status=FollowUpStatus.DONE,
            result="对方已电话确认收到",
            completed_at=_at(date(2026, 11, 24)),
        )
    )
    add(
        TrainingSession(
            **base(),
            dealer_id=dealer.id,
            held_at=_at(VISIT_DAY, 6),
            topic_type=TrainingTopic.PRODUCT_KNOWLEDGE,
            topic="商用笔记本产品知识",
            attendees=["周敏", "赵磊"],
            customer_names_collected=["杭州第一中学", "西湖区人民医院"],
            contact_record_id=record.id,
        )
    )
    add(
        LegacyIssue(
            **base(),
            dealer_id=dealer.id,
            title="前任经理承诺的返利未兑现",
            description="2024 年第四季度返利 3 万元，有书面邮件为证。",
            category=LegacyCategory.EVIDENCED,
            origin="前任区域经理",
            amount=Decimal("30000"),
            raised_on=date(2026, 9, 1),
        )
    )
    add(
        LegacyIssue(
            **base(),
            dealer_id=dealer.id,
            title="口头答应的独家代理",
            description="公司无此政策，也无先例。",
            category=LegacyCategory.UNRESOLVABLE,
            raised_on=date(2026, 9, 1),
        )
    )
    add(
        Complaint(
            **base(),
            dealer_id=dealer.id,
            category=ComplaintCategory.ORDERING_DELIVERY,
            description="上月两批货延迟发货一周",
            received_at=_at(date(2026, 11, 2)),
            handling="已反馈物流部门",
            responsible_dept="物流部",
        )
    )
    for months_back in range(4):
        start = date(2026, 10 - months_back, 1)
        for product, volume in (("商用笔记本", 120), ("台式机", 40)):
            add(
                SalesFigure(
                    **base(),
                    dealer_id=dealer.id,
                    period_type=PeriodType.MONTH,
                    period_start=start,
                    product=product,
                    volume=Decimal(volume + months_back),
                    revenue=Decimal(volume * 4500),
                    collected=Decimal(volume * 4000),
                    receivable=Decimal(volume * 500),
                    dealer_inventory=Decimal(30),
                )
            )
    add(
        CompetitorNote(
            **base(),
            dealer_id=dealer.id,
            brand="联想",
            product="ThinkPad E14",
            price=Decimal("4999"),
            promo_type=PromoType.TIME_LIMITED_DISCOUNT,
            promo_details="双十一直降 500 元",
            strengths="品牌知名度高",
            weaknesses="返利低",
            observed_at=_at(date(2026, 11, 11)),
            source="门店实地观察",
        )
    )
    add(
        RetailPriceChange(
            **base(),
            dealer_id=dealer.id,
            product="商用笔记本 X1",
            old_price=Decimal("5299"),
            new_price=Decimal("4999"),
            changed_on=date(2026, 11, 1),
        )
    )
    add(
        CarriedProduct(
            **base(), dealer_id=dealer.id, brand="本公司", variety="笔记本", is_ours=True
        )
    )
    add(CarriedProduct(**base(), dealer_id=dealer.id, brand="联想", variety="台式机"))
    add(
        Agreement(
            **base(),
            dealer_id=dealer.id,
            title="2026 年度经销协议",
            signed_on=date(2026, 1, 5),
            valid_from=date(2026, 1, 1),
            valid_to=date(2026, 12, 31),
            sales_area="杭州市",
            is_exclusive=True,
        )
    )
    add(
        CreditAssessment(
            **base(),
            dealer_id=dealer.id,
            reviewed_at=date(2026, 6, 30),
            capital=4,
            character=5,
            capacity=4,
            collateral=3,
            condition=4,
            overall_grade="AA",
            risk_level=CreditRisk.LOW,
        )
    )
    add(
        RelationshipGrade(
            **base(),
            dealer_id=dealer.id,
            period_type=PeriodType.QUARTER,
            period_start=date(2026, 7, 1),
            familiarity=4,
            closeness=4,
            sales_support=5,
            complaint_level=2,
            receivable_level=2,
            overall_grade="优",
        )
    )
    add(
        ClassHistory(
            **base(),
            dealer_id=dealer.id,
            scheme=ClassScheme.ABC,
            old_value="B",
            new_value="A",
            reason="年度销量进入前 20%",
            changed_on=date(2026, 1, 10),
            changed_by=manager_id,
        )
    )
    add(
        AfterSalesEvent(
            **base(),
            dealer_id=dealer.id,
            occurred_on=date(2026, 8, 3),
            description="客户笔记本屏幕故障",
            handling="48 小时内上门更换",
        )
    )

    plan_item_ids = []
    for seq, (dealer_row, slot, objective) in enumerate(
        (
            (dealer, time(9, 30), "确认培训方案并预约培训时间"),
            (second, time(14, 0), "了解店面销售情况"),
        ),
        start=1,
    ):
        item = VisitPlanItem(
            **base(),
            dealer_id=dealer_row.id,
            rep_user_id=rep_id,
            planned_date=ROUTE_DAY,
            time_slot=slot,
            route_seq=seq,
            visit_type=VisitType.RETURN_VISIT,
            objective=objective,
            agenda="1. 回顾上次约定\n2. 讨论培训安排" if seq == 1 else None,
            planned_minutes=60,
            appointment_confirmed=seq == 1,
            prep_checklist=["brochures", "industry_cases"],
        )
        add(item)
        plan_item_ids.append(item.id)
    add(
        VisitPlanItem(
            **base(),
            dealer_id=dealer.id,
            rep_user_id=colleague_id,
            planned_date=VISIT_DAY,
            route_seq=1,
            status=PlanItemStatus.NOT_DONE,
            deviation_reason="客户临时出差",
        )
    )
    report = CustomerMgmtReport(
        **base(),
        rep_user_id=rep_id,
        period_type=PeriodType.WEEK,
        period_start=date(2026, 11, 23),
        period_end=date(2026, 11, 29),
        title="第 48 周客户管理报告",
        summary="本周重点推进恒达电子培训事宜。",
    )
    add(report)
    session.flush()
    add(
        ReportTask(
            **base(),
            report_id=report.id,
            section=ReportSection.COMPLETED,
            name="恒达电子回访",
            key_data="确认 12 月培训，预计带来 50 台订单",
            problems="对方担心返利兑现",
            effective_solutions="用书面政策说明返利规则",
            thanks="感谢市场部提供案例资料",
        )
    )
    session.flush()
    return DatasetIds(
        territory_id=territory_id,
        rep_id=rep_id,
        colleague_id=colleague_id,
        manager_id=manager_id,
        dealer_id=dealer.id,
        second_dealer_id=second.id,
        record_id=record.id,
        long_record_id=long_record.id,
        plan_item_ids=tuple(plan_item_ids),
    )
