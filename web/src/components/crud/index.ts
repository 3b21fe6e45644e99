// Shared building blocks of the list pages (web-ui.md §1.7):
//
//   useListTable   (TableModel) page/limit/sort/order/q + filters in the URL → a loader → ListPage<T>,
//                  polling, selection kept across pages
//   ListTable      the antd Table bound to it (server pagination/sort, empty/error states)
//   localPage      answer a TableState from a whole collection, for sorts the API cannot do
//   useLocalListTable a whole collection the page polls itself, in the same list layout
//   FilterBar      search (debounced, "/" focuses), select filters, Reset
//   BulkBar        actions for the selected rows; runBulk reports ok/failed
//   EntityDialog   create/edit modal with antd Form; server fieldErrors land on their fields
//   applyServerErrors the same for a form outside a dialog
//   useDeleteAction confirm → delete → toast with Undo (when the item can be re-created)
//   PageHeader     header card + remembered "Stats" toggle + StatCards
//   cells          IconAction, CopyButton, DaysLeft, formatDate, daysLeft
//
// This barrel loads every piece (the modules import their CSS, so none is dropped): a page
// that needs only a helper, like the Overview, imports it from its own module instead —
// that kept Table, Select and Modal out of the first screen.

export { useListTable, type TableModel, type TableState } from './useListTable';
export { default as ListTable } from './ListTable';
export { localPage, useLocalListTable } from './localList';
export { default as FilterBar, type FilterSelect } from './FilterBar';
export { default as BulkBar, runBulk } from './BulkBar';
export { default as EntityDialog } from './EntityDialog';
export { applyServerErrors } from './serverErrors';
export { useDeleteAction } from './useDeleteAction';
export { default as PageHeader, StatCards, type Stat, type Tone } from './PageHeader';
export { CopyButton, DaysLeft, IconAction, daysLeft, daysTone, formatDate } from './cells';
