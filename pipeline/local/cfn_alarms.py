"""Let moto's CloudFormation create, update and delete `AWS::CloudWatch::Alarm` resources.

moto 5.2 maps a resource type to a model through `CloudFormationModel.__subclasses__()`
(cached in moto.cloudformation.parsing). Its CloudWatch `Alarm` is a plain BaseModel, so
the type has no model: parsing warns and the stack completes without the alarm. Here a
small CloudFormationModel stands in for it and writes through the CloudWatch backend of the
stack's account and region, as PutMetricAlarm/DeleteAlarms would. As in CloudFormation,
`!Ref` gives the alarm name, `!GetAtt .Arn` its ARN, a changed AlarmName replaces the alarm,
and an in-place update keeps the alarm's state. `install()` is idempotent.
"""

from __future__ import annotations

from typing import Any

ALARM_TYPE = "AWS::CloudWatch::Alarm"
_INSTALLED = False


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.cloudformation import parsing

    _define_model()
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()  # the registry is lru-cached: rebuild it with the new subclass
    if parsing.resource_class_from_type(ALARM_TYPE) is None:
        raise RuntimeError(f"moto's CloudFormation did not pick up the {ALARM_TYPE} model")
    _INSTALLED = True


def _backend(account_id: str, region_name: str) -> Any:
    from moto.cloudwatch.models import cloudwatch_backends

    return cloudwatch_backends[account_id][region_name]


def _put_alarm(name: str, props: dict[str, Any], account_id: str, region_name: str) -> Any:
    """PutMetricAlarm from CloudFormation properties (already resolved by moto); returns the alarm."""
    threshold = props.get("Threshold")
    datapoints = props.get("DatapointsToAlarm")
    return _backend(account_id, region_name).put_metric_alarm(
        name=name,
        namespace=props.get("Namespace"),
        metric_name=props.get("MetricName"),
        metric_data_queries=_queries(props.get("Metrics")),
        comparison_operator=props.get("ComparisonOperator"),
        evaluation_periods=int(props["EvaluationPeriods"]),
        datapoints_to_alarm=int(datapoints) if datapoints is not None else None,
        period=int(props["Period"]) if props.get("Period") is not None else None,
        threshold=float(threshold) if threshold is not None else None,
        statistic=props.get("Statistic"),
        extended_statistic=props.get("ExtendedStatistic"),
        description=props.get("AlarmDescription"),
        dimensions=[{"Name": d["Name"], "Value": d["Value"]} for d in props.get("Dimensions") or []],
        alarm_actions=list(props.get("AlarmActions") or []),
        ok_actions=list(props.get("OKActions") or []),
        insufficient_data_actions=list(props.get("InsufficientDataActions") or []),
        unit=props.get("Unit"),
        actions_enabled=str(props.get("ActionsEnabled", True)).lower() != "false",
        treat_missing_data=props.get("TreatMissingData"),
        evaluate_low_sample_count_percentile=props.get("EvaluateLowSampleCountPercentile"),
        threshold_metric_id=props.get("ThresholdMetricId"),
        tags=list(props.get("Tags") or []) or None,
    )


def _queries(metrics: list[dict[str, Any]] | None) -> list[Any] | None:
    """CloudFormation `Metrics` (metric math) as moto's MetricDataQuery objects."""
    if not metrics:
        return None
    from moto.cloudwatch.models import Dimension, Metric, MetricDataQuery, MetricStat

    queries = []
    for query in metrics:
        stat = query.get("MetricStat")
        metric_stat = None
        if stat:
            metric = stat.get("Metric", {})
            dims = [Dimension(d.get("Name"), d.get("Value")) for d in metric.get("Dimensions") or []]
            metric_stat = MetricStat(metric=Metric(metric.get("MetricName"), metric.get("Namespace"), dims),
                                     period=stat.get("Period"), stat=stat.get("Stat"), unit=stat.get("Unit"))
        queries.append(MetricDataQuery(query_id=query.get("Id"), label=query.get("Label"), period=query.get("Period"),
                                       return_data=query.get("ReturnData"), expression=query.get("Expression"),
                                       metric_stat=metric_stat))
    return queries


def _define_model() -> type:
    from moto.core.common_models import CloudFormationModel

    class StackAlarm(CloudFormationModel):
        """A CloudWatch alarm owned by a stack: a handle on the backend's alarm of that name."""

        def __init__(self, name: str, account_id: str, region_name: str) -> None:
            self.name = name
            self.account_id = account_id
            self.region_name = region_name

        @property
        def physical_resource_id(self) -> str:
            return self.name

        @staticmethod
        def cloudformation_name_type() -> str:
            return "AlarmName"

        @staticmethod
        def cloudformation_type() -> str:
            return ALARM_TYPE

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Arn"

        def get_cfn_attribute(self, attribute_name: str) -> str:
            from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

            if attribute_name == "Arn":
                return str(_backend(self.account_id, self.region_name).alarms[self.name].alarm_arn)
            raise UnformattedGetAttTemplateException()

        def is_created(self) -> bool:
            return True

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                            account_id: str, region_name: str, **kwargs: Any) -> StackAlarm:
            _put_alarm(resource_name, cloudformation_json.get("Properties", {}), account_id, region_name)
            return cls(resource_name, account_id, region_name)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> StackAlarm:
            backend = _backend(account_id, region_name)
            old = backend.alarms.get(original_resource.name) if original_resource is not None else None
            if original_resource is not None and original_resource.name != new_resource_name:
                backend.delete_alarms([original_resource.name])  # a new name replaces the alarm
                old = None
            alarm = _put_alarm(new_resource_name, cloudformation_json.get("Properties", {}), account_id, region_name)
            if old is not None:  # an update leaves the alarm's state as it was
                alarm.state_value, alarm.state_reason = old.state_value, old.state_reason
                alarm.state_reason_data, alarm.state_updated_timestamp = old.state_reason_data, \
                    old.state_updated_timestamp
                alarm.history = old.history
            return cls(new_resource_name, account_id, region_name)

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                            account_id: str, region_name: str) -> None:
            _backend(account_id, region_name).delete_alarms([resource_name])

        def delete(self, account_id: str, region_name: str) -> None:
            _backend(account_id, region_name).delete_alarms([self.name])

    return StackAlarm
