// Project resource profiles (web-ui.md §2.7 "Resources"): CPU cores, RAM and disk a queued VM
// of a project gets, in `settings/vmgenerator/projectResources/<project id>`. RAM is stored
// in MB, as the reference did; the UI shows GiB.

import { useCallback, useEffect, useState } from 'react';
import { api } from '../../api/client';
import { projectSettingsApi, type ProjectInfo } from '../../api/projects';

export interface Resources {
  cores: number;
  memoryMb: number;
  diskGb: number;
}

export const DEFAULT_RESOURCES: Resources = { cores: 2, memoryMb: 4096, diskGb: 128 };
export const LIMITS = { cores: [1, 64], ramGiB: [1, 512], diskGiB: [32, 4096] } as const;

const PATH = '/settings/vmgenerator/projectResources';

export interface ProjectResources {
  projects: ProjectInfo[];
  /** Per project id; a project without an entry uses DEFAULT_RESOURCES. */
  resources: Record<string, Resources>;
}

export const resourcesOf = (all: ProjectResources | undefined, projectId: string | undefined): Resources =>
  (projectId && all?.resources[projectId]) || DEFAULT_RESOURCES;

export function useProjectResources() {
  const [data, setData] = useState<ProjectResources | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(
    () =>
      Promise.all([projectSettingsApi.projects(), api.get<Record<string, Resources> | null>(PATH)]).then(
        ([projects, resources]) => {
          setData({ projects: Object.values(projects ?? {}), resources: resources ?? {} });
          setError(null);
        },
        (e: unknown) => setError(e),
      ),
    [],
  );
  useEffect(() => void load(), [load]);
  const save = async (resources: Record<string, Resources>) => {
    await api.put(PATH, resources);
    await load();
  };
  return { data, error, reload: load, save };
}
