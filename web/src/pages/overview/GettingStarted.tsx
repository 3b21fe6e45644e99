// The first-run path on the Overview: create a project → add a bot → pair an agent (or skip).
// Each step is done when the data says so; the card leaves once all three are, so a person
// needs no docs and no typed URL to reach a first bot.

import { lazy, Suspense, useCallback, useState } from 'react';
import { useNavigate } from 'react-router';
import { Button } from 'antd';
import { CheckCircleFilled, PlusOutlined } from '@ant-design/icons';
import { agentsApi } from '../../api/agents';
import { usePolling } from '../../hooks';
import { S } from '../../strings';
import PairAgentButton from '../agents/PairAgentButton';
import type { Project } from '../../models/bots';

// Loaded on the click that opens it: the Overview is the first screen and stays light.
const ProjectDialog = lazy(() => import('../projects/ProjectDialog'));

const F = S.firstRun;
/** A view preference of this browser, not data: skipping the agent hides that step here. */
const SKIP_KEY = 'botmox.firstRun.agentSkipped';

/** `/project/:id?add=first`: the project page opens "Add bot" and comes back here after it. */
export const ADD_FIRST_BOT = 'first';

export default function GettingStarted({
  projects,
  botCount,
  onChanged,
}: {
  projects: readonly Project[];
  botCount: number;
  onChanged: () => void;
}) {
  const navigate = useNavigate();
  const loadAgents = useCallback(() => agentsApi.list(), []);
  const agents = usePolling(loadAgents, 30_000);
  const [creating, setCreating] = useState(false);
  const [skipped, setSkipped] = useState(() => localStorage.getItem(SKIP_KEY) === '1');
  const paired = (agents.data ?? []).some((a) => a.status !== 'pending' && a.status !== 'revoked');
  const done = [projects.length > 0, botCount > 0, paired || skipped];
  if (!agents.data || done.every(Boolean)) return null;
  const current = done.indexOf(false);
  const skip = () => {
    localStorage.setItem(SKIP_KEY, '1');
    setSkipped(true);
  };

  const actions = [
    <Button key="project" type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
      {F.createProject}
    </Button>,
    <Button
      key="bot"
      type="primary"
      icon={<PlusOutlined />}
      disabled={!projects.length}
      onClick={() => navigate(`/project/${encodeURIComponent(projects[0].id)}?add=${ADD_FIRST_BOT}`)}
    >
      {F.addBot(projects[0]?.name ?? '')}
    </Button>,
    <span key="agent" className="bm-first-actions">
      <PairAgentButton type="primary" onPaired={agents.refresh} />
      <Button type="link" onClick={skip} data-testid="skip-agent">
        {F.skip}
      </Button>
    </span>,
  ];

  return (
    <section className="bm-first" data-testid="getting-started" aria-label={F.title}>
      <h2 className="bm-first-title">{F.title}</h2>
      <p className="bm-muted">{F.intro}</p>
      <ol className="bm-first-steps">
        {[
          { title: F.stepProject, text: done[0] ? F.projectDone(projects.length) : F.projectWhy },
          { title: F.stepBot, text: done[1] ? F.botDone(botCount) : F.botWhy },
          { title: F.stepAgent, text: paired ? F.agentDone : skipped ? F.agentSkipped : F.agentWhy },
        ].map((step, i) => (
          <li key={step.title} className={done[i] ? 'is-done' : i === current ? 'is-current' : undefined} aria-current={i === current ? 'step' : undefined}>
            <span className="bm-first-mark" aria-hidden>{done[i] ? <CheckCircleFilled /> : i + 1}</span>
            <span>
              <span className="bm-first-step">{step.title}</span>
              <span className="bm-muted bm-first-text">{step.text}</span>
            </span>
          </li>
        ))}
      </ol>
      <div className="bm-first-next">{actions[current]}</div>
      {creating ? (
        <Suspense fallback={null}>
          <ProjectDialog open taken={projects.map((p) => p.id)} onClose={() => setCreating(false)} onSaved={onChanged} />
        </Suspense>
      ) : null}
    </section>
  );
}
