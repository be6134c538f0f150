// The fields of Argo Rollouts' objects that `npm run canary -- status
// --rollout` and `watch` read, named as the controller writes them (the JSON
// tags of pkg/apis/rollouts/v1alpha1 in the release tools/argo-rollouts
// pins: types.go, analysis_types.go). Everything is optional: a Rollout the
// controller has not reconciled yet has no status at all.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { kind: string; name: string; uid?: string }[];
}

export interface RolloutStep {
  setWeight?: number;
  analysis?: { templates?: { templateName?: string }[] };
  pause?: { duration?: string | number };
  [other: string]: unknown;
}

/** status.canary.weights: TrafficWeights, the weights the controller last set. */
export interface TrafficWeights {
  canary?: { weight?: number; podTemplateHash?: string };
  stable?: { weight?: number; podTemplateHash?: string };
  verified?: boolean;
}

export interface Rollout {
  metadata: ObjectMeta;
  spec?: {
    replicas?: number;
    workloadRef?: { apiVersion?: string; kind?: string; name?: string };
    strategy?: {
      canary?: {
        steps?: RolloutStep[];
        trafficRouting?: {
          istio?: {
            virtualService?: { name?: string; routes?: string[] };
            virtualServices?: { name?: string; routes?: string[] }[];
            destinationRule?: {
              name?: string;
              canarySubsetName?: string;
              stableSubsetName?: string;
            };
          };
        };
      };
    };
  };
  status?: {
    phase?: string;
    message?: string;
    abort?: boolean;
    abortedAt?: string;
    currentStepIndex?: number;
    currentPodHash?: string;
    stableRS?: string;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    observedGeneration?: string;
    workloadObservedGeneration?: string;
    canary?: {
      currentStepAnalysisRunStatus?: { name?: string; status?: string; message?: string };
      weights?: TrafficWeights;
    };
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
  };
}

/** One measurement: its phase and the value the provider returned ("[0.5]" for Prometheus). */
export interface Measurement {
  phase?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  value?: string;
}

export interface MetricResult {
  name: string;
  phase?: string;
  message?: string;
  measurements?: Measurement[];
  count?: number;
  successful?: number;
  failed?: number;
  inconclusive?: number;
  error?: number;
  consecutiveError?: number;
}

export interface AnalysisRun {
  metadata: ObjectMeta;
  status?: {
    phase?: string;
    message?: string;
    startedAt?: string;
    completedAt?: string;
    metricResults?: MetricResult[];
  };
}

export interface VirtualService {
  metadata: ObjectMeta;
  spec?: {
    http?: {
      name?: string;
      route?: { destination?: { host?: string; subset?: string }; weight?: number }[];
    }[];
  };
}

/** What one look at the cluster gathers for one Rollout. */
export interface RolloutView {
  rollout: Rollout;
  /** The VirtualServices its Istio traffic routing names (those found). */
  virtualServices: VirtualService[];
  /** The newest AnalysisRun the Rollout owns, if any. */
  analysisRun?: AnalysisRun;
  /** The workloadRef's Deployment, for its generation (a release changes it). */
  workload?: { metadata: ObjectMeta };
}
