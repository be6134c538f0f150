// The queries of the "Shop services" Grafana dashboard
// (k8s/components/monitoring/dashboards/shop-services.json), with its
// template variables replaced by concrete values, so a test can run each
// against a real Prometheus: test/k8s/dashboard.test.ts checks they parse,
// the mesh lab that they return series after traffic.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const dashboardFile = resolve(
  import.meta.dirname,
  '../../k8s/components/monitoring/dashboards/shop-services.json',
);

/** Values for the dashboard's variables (`$service`, …) and Grafana's `$__rate_interval`. */
export interface DashboardValues {
  service: string;
  /** A regex (the variable is multi-value): `.*` is Grafana's "All". */
  method: string;
  /** The Rollout's namespace and name (the canary panels). */
  namespace: string;
  rollout: string;
  /** What Grafana puts for `$__rate_interval`: at least 4 scrape intervals. */
  rateInterval: string;
}

export const defaultDashboardValues: DashboardValues = {
  service: 'product-service',
  method: '.*',
  namespace: 'shop',
  rollout: 'product-service',
  rateInterval: '1m',
};

export interface DashboardQuery {
  /** The panel's title. */
  panel: string;
  /** The target's refId within the panel (A, B, …). */
  refId: string;
  expr: string;
}

interface Target {
  refId?: string;
  expr?: string;
}
interface Panel {
  title?: string;
  targets?: Target[];
  panels?: Panel[];
}

/** The dashboard JSON, parsed. */
export function dashboard(): {
  templating: { list: { name: string; type: string; query?: unknown }[] };
  panels: Panel[];
} {
  return JSON.parse(readFileSync(dashboardFile, 'utf8'));
}

/** Every panel, rows' nested ones included. */
export function dashboardPanels(): Panel[] {
  const all: Panel[] = [];
  const walk = (panels: Panel[] = []) => {
    for (const panel of panels) {
      all.push(panel);
      walk(panel.panels);
    }
  };
  walk(dashboard().panels);
  return all;
}

/**
 * Every query of every panel, variables substituted. Throws on a variable
 * this helper has no value for, so a panel cannot slip through untested.
 */
export function dashboardQueries(values: Partial<DashboardValues> = {}): DashboardQuery[] {
  const v = { ...defaultDashboardValues, ...values };
  const substitutions: Record<string, string> = {
    __rate_interval: v.rateInterval,
    service: v.service,
    method: v.method,
    namespace: v.namespace,
    rollout: v.rollout,
  };
  return dashboardPanels().flatMap((panel) =>
    (panel.targets ?? [])
      .filter((target) => typeof target.expr === 'string')
      .map((target) => {
        const expr = (target.expr ?? '').replace(
          /\$\{(\w+)\}|\$(\w+)/g,
          (whole, braced?: string, bare?: string) => {
            const name = braced ?? bare ?? '';
            const value = substitutions[name];
            if (value === undefined) {
              throw new Error(`panel "${panel.title}": no value for ${whole} in ${target.expr}`);
            }
            return value;
          },
        );
        return { panel: panel.title ?? '', refId: target.refId ?? '', expr };
      }),
  );
}
