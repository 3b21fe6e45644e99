// "New project" and "Rename project": a project is an entry of settings/projects keyed by its
// id. The id is derived from the name once, on creation, and never changes: bots name their
// project by it.

import { Form, Input, InputNumber } from 'antd';
import { projectIdFrom, projectsApi, type ProjectInfo } from '../../api/projects';
import { EntityDialog } from '../../components/crud';
import { S } from '../../strings';

const T = S.projectDialog;

interface Values {
  name: string;
  id: string;
  game?: string;
  expansion?: string;
  max_level?: number;
}

export default function ProjectDialog({
  open,
  project,
  taken,
  onClose,
  onSaved,
}: {
  open: boolean;
  /** The project to rename; a new one when absent. */
  project?: ProjectInfo;
  /** Ids already in use (configured or named on bots). */
  taken: readonly string[];
  onClose: () => void;
  onSaved?: (id: string) => void;
}) {
  const submit = async (v: Values) => {
    const name = v.name.trim();
    if (project) {
      await projectsApi.save(project.id, { name });
      onSaved?.(project.id);
      return;
    }
    const id = v.id.trim();
    await projectsApi.save(id, {
      id,
      name,
      game: v.game?.trim() || undefined,
      expansion: v.expansion?.trim() || undefined,
      max_level: v.max_level ?? undefined,
    });
    onSaved?.(id);
  };
  return (
    <EntityDialog<Values>
      open={open}
      title={project ? T.renameTitle : T.createTitle}
      okText={project ? S.crud.save : S.crud.create}
      successMessage={project ? T.renamed : T.created}
      initialValues={project ? { name: project.name ?? project.id, id: project.id } : { game: T.defaultGame }}
      onSubmit={submit}
      onClose={onClose}
      testId="project-dialog"
    >
      {(form) => (
        <>
          <Form.Item name="name" label={T.name} rules={[{ required: true, whitespace: true, message: T.nameRequired }]}>
            <Input
              autoFocus
              maxLength={64}
              onChange={(e) => {
                if (!project && !form.isFieldTouched('id')) form.setFieldValue('id', projectIdFrom(e.target.value));
              }}
            />
          </Form.Item>
          <Form.Item
            name="id"
            label={T.id}
            extra={project ? T.idFixed : T.idHelp}
            rules={[
              { required: true, message: T.idRequired },
              { pattern: /^[a-z0-9_]{1,48}$/, message: T.idPattern },
              { validator: (_, v: string) => (!project && taken.includes(v) ? Promise.reject(new Error(T.idTaken)) : Promise.resolve()) },
            ]}
          >
            <Input disabled={!!project} className="bm-mono" />
          </Form.Item>
          {project ? null : (
            <div className="bm-form-grid">
              <Form.Item name="game" label={T.game}>
                <Input maxLength={64} />
              </Form.Item>
              <Form.Item name="expansion" label={T.expansion}>
                <Input maxLength={64} />
              </Form.Item>
              <Form.Item name="max_level" label={T.maxLevel}>
                <InputNumber min={1} max={200} style={{ width: '100%' }} />
              </Form.Item>
            </div>
          )}
        </>
      )}
    </EntityDialog>
  );
}
