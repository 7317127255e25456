//! Task `Resource` recognition and the Express-type restrictions on it.

use super::{Cx, MachineType};

/// The optimized service integrations (`arn:aws:states:::service:action`), from AWS's list of
/// optimized integrations. Anything else under `states:::` (apart from `aws-sdk:`) is
/// "not recognized" — e.g. `dynamodb:query`, which exists only as `aws-sdk:dynamodb:query`.
const OPTIMIZED: &[&str] = &[
    "lambda:invoke",
    "batch:submitJob",
    "dynamodb:getItem",
    "dynamodb:putItem",
    "dynamodb:updateItem",
    "dynamodb:deleteItem",
    "ecs:runTask",
    "sns:publish",
    "sqs:sendMessage",
    "glue:startJobRun",
    "states:startExecution",
    "apigateway:invoke",
    "events:putEvents",
    "databrew:startJobRun",
    "http:invoke",
    "mediaconvert:createJob",
    "bedrock:invokeModel",
    "bedrock:createModelCustomizationJob",
    "athena:startQueryExecution",
    "athena:stopQueryExecution",
    "athena:getQueryExecution",
    "athena:getQueryResults",
    "codebuild:startBuild",
    "codebuild:stopBuild",
    "codebuild:batchDeleteBuilds",
    "codebuild:batchGetReports",
    "codebuild:startBuildBatch",
    "codebuild:stopBuildBatch",
    "codebuild:retryBuildBatch",
    "codebuild:deleteBuildBatch",
    "sagemaker:createEndpoint",
    "sagemaker:createEndpointConfig",
    "sagemaker:createHyperParameterTuningJob",
    "sagemaker:createLabelingJob",
    "sagemaker:createModel",
    "sagemaker:createProcessingJob",
    "sagemaker:createTrainingJob",
    "sagemaker:createTransformJob",
    "sagemaker:updateEndpoint",
    "eks:createCluster",
    "eks:deleteCluster",
    "eks:createFargateProfile",
    "eks:deleteFargateProfile",
    "eks:createNodegroup",
    "eks:deleteNodegroup",
    "eks:runJob",
    "eks:call",
    "elasticmapreduce:createCluster",
    "elasticmapreduce:terminateCluster",
    "elasticmapreduce:addStep",
    "elasticmapreduce:cancelStep",
    "elasticmapreduce:setClusterTerminationProtection",
    "elasticmapreduce:modifyInstanceFleetByName",
    "elasticmapreduce:modifyInstanceGroupByName",
    "emr-containers:startJobRun",
    "emr-containers:createVirtualCluster",
    "emr-containers:deleteVirtualCluster",
    "emr-serverless:createApplication",
    "emr-serverless:startApplication",
    "emr-serverless:stopApplication",
    "emr-serverless:deleteApplication",
    "emr-serverless:startJobRun",
    "emr-serverless:cancelJobRun",
];

/// What kind of thing a Task resource names.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// A service integration with its integration-pattern suffix ("", ".sync", ".sync:2",
    /// ".waitForTaskToken").
    Service {
        suffix: String,
    },
    Lambda,
    Activity,
}

fn is_partition(p: &str) -> bool {
    matches!(p, "aws" | "aws-cn" | "aws-us-gov" | "aws-iso" | "aws-iso-b")
}

fn classify(arn: &str) -> Option<Kind> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" || !is_partition(parts[1]) {
        return None;
    }
    let (service, region, account, rest) = (parts[2], parts[3], parts[4], parts[5]);
    match service {
        "states" if region.is_empty() && account.is_empty() => {
            let (body, suffix) = split_suffix(rest);
            let recognized = match body.strip_prefix("aws-sdk:") {
                Some(sdk) => {
                    let mut it = sdk.split(':');
                    let (svc, action) = (it.next().unwrap_or(""), it.next().unwrap_or(""));
                    !svc.is_empty() && !action.is_empty() && it.next().is_none()
                }
                None => OPTIMIZED.contains(&body),
            };
            recognized.then(|| Kind::Service {
                suffix: suffix.to_string(),
            })
        }
        "states" => {
            let name = rest.strip_prefix("activity:")?;
            (!region.is_empty() && !account.is_empty() && !name.is_empty() && !name.contains(':'))
                .then_some(Kind::Activity)
        }
        "lambda" => {
            let f = rest.strip_prefix("function:")?;
            let mut it = f.split(':');
            let name = it.next().unwrap_or("");
            let ok = !region.is_empty()
                && !account.is_empty()
                && !name.is_empty()
                && it.next().is_none_or(|q| !q.is_empty())
                && it.next().is_none();
            ok.then_some(Kind::Lambda)
        }
        _ => None,
    }
}

fn split_suffix(rest: &str) -> (&str, &str) {
    for s in [".waitForTaskToken", ".sync:2", ".sync"] {
        if let Some(b) = rest.strip_suffix(s) {
            return (b, s);
        }
    }
    (rest, "")
}

/// Reports an unrecognized resource, or one an Express machine may not use.
pub(crate) fn check(cx: &mut Cx, arn: &str, at: &str) {
    let Some(kind) = classify(arn) else {
        cx.schema(
            format!(
                "The resource provided {arn} is not recognized. The value is not a valid resource \
                 ARN, or the resource is not available in this region."
            ),
            at,
        );
        return;
    };
    if cx.opts.machine_type != MachineType::Express {
        return;
    }
    match kind {
        Kind::Activity => cx.schema("Express state machine does not support Activity ARN", at),
        Kind::Service { suffix } if suffix.starts_with(".sync") => cx.schema(
            "Express state machine does not support '.sync' service integration",
            at,
        ),
        // AWS's message has a trailing space here (recorded verbatim).
        Kind::Service { suffix } if suffix == ".waitForTaskToken" => cx.schema(
            "Express state machine does not support '.waitForTaskToken' service integration ",
            at,
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies() {
        assert_eq!(
            classify("arn:aws:states:::lambda:invoke"),
            Some(Kind::Service {
                suffix: String::new()
            })
        );
        assert!(classify("arn:aws:states:::dynamodb:query").is_none());
        assert!(classify("arn:aws:states:::aws-sdk:dynamodb:query").is_some());
        assert_eq!(
            classify("arn:aws:states:::states:startExecution.sync:2"),
            Some(Kind::Service {
                suffix: ".sync:2".into()
            })
        );
        assert_eq!(
            classify("arn:aws:lambda:us-east-1:111111111111:function:f"),
            Some(Kind::Lambda)
        );
        assert_eq!(
            classify("arn:aws:lambda:us-east-1:111111111111:function:f:$LATEST"),
            Some(Kind::Lambda)
        );
        assert_eq!(
            classify("arn:aws:states:us-east-1:111111111111:activity:a"),
            Some(Kind::Activity)
        );
        assert!(classify("not-an-arn").is_none());
    }
}
