import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import App from './App';
import { reportBrowserErrors } from './api/clientLogs';
import { applyThemeToDocument } from './theme';
import './styles.css';

// Set data-theme and the palette variables before the first paint.
applyThemeToDocument();
reportBrowserErrors();

const root = document.getElementById('root');
if (!root) throw new Error('#root is missing from index.html');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
